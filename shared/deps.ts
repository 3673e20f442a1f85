import { createChatHistoryService, type ChatHistoryService } from './chat/chat-history-service.js';
import { createChatSessionService, type ChatSessionService } from './chat/chat-session-service.js';
import { systemClock, type Clock } from './clock.js';
import { loadConfig, type Config } from './config.js';
import { createIdempotencyService, type IdempotencyService, TAKEOVER_MARGIN_MS } from './idempotency/idempotency-service.js';
import { createSessionsService, type SessionsService } from './sessions/sessions-service.js';
import { createTasksService, type TasksService } from './tasks/tasks-service.js';
import { createProfilesService, type ProfilesService } from './users/profiles-service.js';
import { createWorkflowService, type WorkflowService } from './workflow/workflow-service.js';
import { createLogger, type Logger } from './logger.js';
import type { StateStore } from './state/port.js';
import { startTelemetry, type TelemetryMode } from './telemetry/setup.js';
import { tracedStateStore } from './telemetry/traced-store.js';

/** Everything the services need, built once per process. Tests build their own. */
export interface Deps {
  config: Config;
  logger: Logger;
  clock: Clock;
  stores: { hot: StateStore; durable: StateStore };
  chat: { history: ChatHistoryService; sessions: ChatSessionService };
  tasks: TasksService;
  profiles: ProfilesService;
  workflow: WorkflowService;
  sessions: SessionsService;
  idempotency: IdempotencyService;
}

/** Every service over the two stores. (Tests build the one service they exercise, with their own clock.) */
function buildServices(config: Config, stores: Deps['stores'], clock: Clock): Omit<Deps, 'logger'> {
  const chat = {
    history: createChatHistoryService({
      store: stores.hot,
      clock,
      settings: { maxMessages: config.chat.maxMessages, ttlSeconds: config.chat.historyTtlSeconds },
    }),
    sessions: createChatSessionService({ store: stores.hot, clock, ttlSeconds: config.chat.sessionTtlSeconds }),
  };
  const tasks = createTasksService({ durable: stores.durable, cache: stores.hot, clock, cacheTtlSeconds: config.cache.taskTtlSeconds });
  return {
    config,
    clock,
    stores,
    chat,
    tasks,
    profiles: createProfilesService({ durable: stores.durable, cache: stores.hot, clock, cacheTtlSeconds: config.cache.userTtlSeconds }),
    workflow: createWorkflowService({ store: stores.hot, clock, ttlSeconds: config.workflow.ttlSeconds, tasks, chat: chat.history }),
    sessions: createSessionsService({ store: stores.hot, clock }),
    idempotency: createIdempotencyService({ store: stores.hot, clock, runningTimeoutMs: config.requestTimeoutMs + TAKEOVER_MARGIN_MS }),
  };
}

interface BuildOptions {
  logger?: Logger;
  /**
   * Whether each state call is a span of its own (default: yes). Not when nothing records spans
   * (the propagation-only mode): such a span would record nothing, and the call carries the
   * invocation's trace context anyway; leaving it out saves a context switch per call.
   */
  traceStateCalls?: boolean;
}

/** Wires the real dependencies: the Dapr SDK is imported here, lazily, to keep it off module load. */
export async function buildDeps(config: Config, options: BuildOptions = {}): Promise<Deps> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const { connectDaprSidecar, createDaprStateStore } = await import('./state/dapr-state-store.js');
  const sidecar = connectDaprSidecar({ host: config.dapr.host, httpPort: config.dapr.httpPort, logger });
  const storeOptions = {
    timeoutMs: config.dapr.timeoutMs,
    breakerThreshold: config.dapr.breakerThreshold,
    breakerHalfOpenAfterMs: config.dapr.breakerHalfOpenMs,
  };
  const traced = options.traceStateCalls === false ? (store: StateStore) => store : tracedStateStore;
  const stores = {
    hot: traced(createDaprStateStore(sidecar, config.stores.hot, storeOptions)),
    durable: traced(createDaprStateStore(sidecar, config.stores.durable, storeOptions)),
  };
  return { ...buildServices(config, stores, systemClock), logger };
}

// Parsed when the function files load, so a bad setting stops the app at startup, naming the setting.
const processConfig = loadConfig();
/**
 * Started when the function files load, but not awaited there (its SDK is a large import): the
 * handler awaits it before an invocation's first span. A telemetry start that fails is logged and
 * leaves the app serving without telemetry (undefined here).
 */
const telemetryStarted: Promise<TelemetryMode | undefined> = startTelemetry({
  connectionString: processConfig.telemetry.connectionString,
}).catch((error: unknown) => {
  const message = processConfig.telemetry.connectionString
    ? 'telemetry did not start; serving without it, and the Functions host was told this worker reports its invocations, so Application Insights will miss them'
    : 'telemetry did not start; serving without it';
  createLogger(processConfig.logLevel).error({ err: error }, message);
  return undefined;
});

/** Resolves once OpenTelemetry is registered for the process (at once after the first time). */
export function whenTelemetryStarted(): Promise<unknown> {
  return telemetryStarted;
}
let processDeps: Promise<Deps> | undefined;

/** The process-wide dependency graph, built on first use and never replaced. */
export function getDeps(): Promise<Deps> {
  processDeps ??= telemetryStarted
    .then((mode) => buildDeps(processConfig, { traceStateCalls: mode === 'application-insights' || mode === 'recording' }))
    .catch((error: unknown) => {
      processDeps = undefined; // let the next request try again
      throw error;
    });
  return processDeps;
}
