import { loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import type { StateStore } from './state/port.js';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Everything the services need, built once per process. Tests build their own. */
export interface Deps {
  config: Config;
  logger: Logger;
  clock: Clock;
  stores: { hot: StateStore; durable: StateStore };
}

/** Wires the real dependencies: the Dapr SDK is imported here, lazily, to keep it off module load. */
export async function buildDeps(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<Deps> {
  const { createDaprClient, createDaprStateStore } = await import('./state/dapr-state-store.js');
  const client = createDaprClient({ host: config.dapr.host, httpPort: config.dapr.httpPort, logger });
  const storeOptions = { timeoutMs: config.dapr.timeoutMs };
  return {
    config,
    logger,
    clock: systemClock,
    stores: {
      hot: createDaprStateStore(client, config.stores.hot, storeOptions),
      durable: createDaprStateStore(client, config.stores.durable, storeOptions),
    },
  };
}

// Parsed when the function files load, so a bad setting stops the app at startup, naming the setting.
const processConfig = loadConfig();
let processDeps: Promise<Deps> | undefined;

/** The process-wide dependency graph, built on first use and never replaced. */
export function getDeps(): Promise<Deps> {
  processDeps ??= buildDeps(processConfig);
  return processDeps;
}
