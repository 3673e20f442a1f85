import { afterAll, beforeAll } from 'vitest';
import { loadStateComponents, startSidecar, type Sidecar } from '../../dev/sidecar/server.js';
import { connectDaprSidecar, createDaprStateStore, type DaprSidecar } from '../../shared/state/dapr-state-store.js';
import type { StateStore } from '../../shared/state/port.js';
import { componentsDir } from './stack.js';

export interface Stores {
  readonly sidecar: Sidecar;
  readonly hot: StateStore;
  readonly durable: StateStore;
  /** The stand-in's clock, in ms; move it forward to expire keys. */
  now: number;
}

/**
 * For service-level tests: a stand-in on a free port and both state stores through the real
 * DaprClient, started before the file's tests and stopped after them.
 */
export function useStores(): Stores {
  let sidecar: Sidecar | undefined;
  let connection: DaprSidecar | undefined;
  let hot: StateStore | undefined;
  let durable: StateStore | undefined;
  const stores = {
    now: Date.now(),
    get sidecar() {
      return started(sidecar);
    },
    get hot() {
      return started(hot);
    },
    get durable() {
      return started(durable);
    },
  };
  beforeAll(async () => {
    sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir), now: () => stores.now });
    connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: sidecar.port });
    hot = createDaprStateStore(connection, 'statestore', { timeoutMs: 2000 });
    durable = createDaprStateStore(connection, 'statestore-durable', { timeoutMs: 2000 });
  });
  afterAll(async () => {
    await connection?.close();
    await sidecar?.close();
  });
  return stores;
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the stores start in beforeAll');
  return value;
}

/** `store`, counting its saves: for tests that check how many writes an operation takes. */
export function countingSaves(store: StateStore): { store: StateStore; saves(): number } {
  let saves = 0;
  return {
    store: {
      ...store,
      save(key, value, options) {
        saves += 1;
        return store.save(key, value, options);
      },
    },
    saves: () => saves,
  };
}
