import type { StateBackend, StoreResult } from '../../dev/sidecar/backend.js';
import { failure } from '../../dev/sidecar/backend.js';
import { MemoryBackend } from '../../dev/sidecar/memory-backend.js';
import type { BackendFactory } from '../../dev/sidecar/server.js';

/**
 * Lets a test take one store of the stand-in down and bring it back: while down, every call
 * fails the way a lost Redis/PostgreSQL connection does, so daprd answers 500 and the app sees a
 * real outage through the real HTTP path.
 */
export function outageSwitch() {
  const down = new Set<string>();
  const createBackend: BackendFactory = (component, { now }) => {
    const inner: StateBackend = new MemoryBackend({ now });
    const guard = <T>(call: () => Promise<StoreResult<T>>): Promise<StoreResult<T>> =>
      down.has(component.name) ? Promise.resolve(failure('store-failure', 'dial tcp 127.0.0.1:6379: connect: connection refused')) : call();
    const backend: StateBackend = {
      flavour: inner.flavour,
      capabilities: inner.capabilities,
      get: (key, metadata) => guard(() => inner.get(key, metadata)),
      bulkGet: (keys, metadata) => guard(() => inner.bulkGet(keys, metadata)),
      save: (operation) => guard(() => inner.save(operation)),
      delete: (operation) => guard(() => inner.delete(operation)),
      transact: (operations, metadata) => guard(() => inner.transact(operations, metadata)),
      close: () => inner.close(),
    };
    return backend;
  };
  return {
    createBackend,
    takeDown: (store: string) => down.add(store),
    bringBack: (store: string) => down.delete(store),
  };
}
