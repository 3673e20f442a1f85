import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BulkGetItem, type StateBackend, success } from '../../dev/sidecar/backend.js';
import { MemoryBackend } from '../../dev/sidecar/memory-backend.js';
import { loadStateComponents, type Sidecar, startSidecar } from '../../dev/sidecar/server.js';
import { errorResponse, Unavailable } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { StoreUnreachable } from '../../shared/state/dapr-errors.js';
import { connectDaprSidecar, createDaprStateStore, type DaprSidecar } from '../../shared/state/dapr-state-store.js';
import { runWithDeadline } from '../../shared/state/deadline.js';
import type { StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';
import { startFaultySidecar } from '../support/faulty-sidecar.js';
import { freePort } from '../support/redis-server.js';
import { componentsDir } from '../support/stack.js';

const silentLog = createLogger('silent');

/** 5,000 nested objects: JSON.stringify overflows the stack on it (a RangeError). */
function deepValue(levels = 5000): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i += 1) value = { a: value };
  return value;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

function perKeyFailure(key: string): BulkGetItem | undefined {
  if (key.includes('poisoned')) return { key, error: 'failed to decrypt the value: cipher: message authentication failed' };
  if (key.includes('unreachable')) return { key, error: 'dial tcp 10.0.0.9:6379: connect: connection refused' };
  return undefined;
}

describe('what the adapter counts as the store being unavailable', () => {
  let sidecar: Sidecar;
  let connection: DaprSidecar;

  beforeAll(async () => {
    const components = await loadStateComponents(componentsDir);
    // A store whose bulk reads fail for some keys only, as daprd reports them: inline, per key.
    sidecar = await startSidecar({
      appId: 'state-api',
      components,
      createBackend: (_component, { now }) => {
        const inner = new MemoryBackend({ now });
        const backend: StateBackend = {
          flavour: inner.flavour,
          capabilities: inner.capabilities,
          get: inner.get.bind(inner),
          save: inner.save.bind(inner),
          delete: inner.delete.bind(inner),
          transact: inner.transact.bind(inner),
          close: inner.close.bind(inner),
          async bulkGet(keys) {
            const result = await inner.bulkGet(keys);
            if (!result.ok) return result;
            return success(result.value.map((item) => perKeyFailure(item.key) ?? item));
          },
        };
        return backend;
      },
    });
    connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: sidecar.port });
  });

  afterAll(async () => {
    await connection.close();
    await sidecar.close();
  });

  const storeWithBreaker = (): StateStore =>
    createDaprStateStore(connection, 'statestore', { timeoutMs: 2000, breakerThreshold: 2, breakerHalfOpenAfterMs: 60_000 });

  it('fails a value the SDK cannot serialise as an internal error (500), before any I/O, and never opens the circuit', async () => {
    const store = storeWithBreaker();
    const key = uniqueId('test:doc:deep');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const savesBefore = sidecar.journal.counts()['save:statestore'] ?? 0;
    for (let i = 0; i < 5; i += 1) {
      for (const value of [deepValue(), cyclic, { n: 10n }]) {
        const error = await rejection(store.save(key, value, { mode: 'overwrite' }));
        expect(error).not.toBeInstanceOf(Unavailable);
        expect(errorResponse(error, 'corr-1', silentLog).status).toBe(500);
      }
      await expect(
        rejection(store.transaction([{ kind: 'upsert', key, value: deepValue(), options: { mode: 'overwrite' } }])),
      ).resolves.toBeInstanceOf(RangeError);
    }
    expect(sidecar.journal.counts()['save:statestore'] ?? 0).toBe(savesBefore);
    await store.save(key, { n: 1 }, { mode: 'overwrite' });
    await expect(store.get(key)).resolves.toMatchObject({ value: { n: 1 } });
  });

  it('answers 503 for a key whose bulk read fails, without opening the circuit for other keys', async () => {
    const store = storeWithBreaker();
    const healthy = uniqueId('test:doc:healthy');
    await store.save(healthy, { n: 1 }, { mode: 'overwrite' });
    for (let i = 0; i < 5; i += 1) {
      const error = await rejection(store.get(uniqueId('test:doc:poisoned')));
      expect(error).toBeInstanceOf(Unavailable);
      expect(error).not.toBeInstanceOf(StoreUnreachable);
    }
    await expect(store.get(healthy)).resolves.toMatchObject({ value: { n: 1 } });
  });

  it('counts per-key errors that name a transport failure: the store itself is down', async () => {
    const store = storeWithBreaker();
    for (let i = 0; i < 2; i += 1) {
      await expect(rejection(store.get(uniqueId('test:doc:unreachable')))).resolves.toBeInstanceOf(StoreUnreachable);
    }
    await expect(store.get(uniqueId('test:doc:healthy'))).rejects.toThrow(/circuit open/);
  });
});

describe('writes whose outcome is unknown', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const thing of opened.reverse()) await thing.close();
  });

  async function storeOn(port: number, timeoutMs = 300): Promise<StateStore> {
    const connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: port });
    opened.push(connection);
    await connection.whenReady();
    return createDaprStateStore(connection, 'statestore', { timeoutMs, breakerThreshold: 100 });
  }

  it('marks a save that timed out after it was sent as outcome unknown, and a timed-out read not', async () => {
    const hung = await startFaultySidecar('hang');
    opened.push(hung);
    const store = await storeOn(hung.port);
    for (const write of [
      store.save('test:doc:hung', { n: 1 }, { mode: 'overwrite' }),
      store.saveBulk([{ key: 'test:doc:hung', value: { n: 1 }, options: { mode: 'overwrite' } }]),
      store.delete('test:doc:hung'),
      store.transaction([{ kind: 'delete', key: 'test:doc:hung' }]),
    ]) {
      const error = await rejection(write);
      expect(error).toBeInstanceOf(StoreUnreachable);
      expect((error as Unavailable).outcomeUnknown).toBe(true);
    }
    const read = await rejection(store.get('test:doc:hung'));
    expect(read).toBeInstanceOf(Unavailable);
    expect((read as Unavailable).outcomeUnknown).toBe(false);
  });

  it('never sends a save that timed out while the sidecar was still starting, as "not sent" promised', async () => {
    // A sidecar whose readiness probe is held until released, counting the state calls it gets.
    let stateCalls = 0;
    const held: ServerResponse[] = [];
    const starting = createServer((request, response) => {
      if (request.url?.startsWith('/v1.0/metadata')) held.push(response);
      else {
        stateCalls += 1;
        request.resume();
        request.on('end', () => response.writeHead(204).end());
      }
    });
    await new Promise<void>((resolve) => starting.listen(0, '127.0.0.1', resolve));
    opened.push({
      close: () => {
        starting.closeAllConnections();
        return new Promise<void>((resolve) => starting.close(() => resolve()));
      },
    });
    const connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: (starting.address() as AddressInfo).port });
    opened.push(connection);
    const store = createDaprStateStore(connection, 'statestore', { timeoutMs: 200, breakerThreshold: 100 });

    const error = await rejection(store.save('test:doc:starting', { n: 1 }, { mode: 'overwrite' }));
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Unavailable).outcomeUnknown).toBe(false);

    for (const response of held.splice(0)) response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"state-api"}');
    await connection.whenReady();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stateCalls).toBe(0);
  });

  it('marks a save whose connection was reset mid-request as outcome unknown', async () => {
    const resetting = await startFaultySidecar('reset');
    opened.push(resetting);
    const store = await storeOn(resetting.port, 5000);
    const error = await rejection(store.save('test:doc:reset', { n: 1 }, { mode: 'overwrite' }));
    expect(error).toBeInstanceOf(StoreUnreachable);
    expect((error as Unavailable).outcomeUnknown).toBe(true);
  });

  it('knows a save on a refused connection did not happen', async () => {
    const sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    const store = await storeOn(sidecar.port, 2000);
    await sidecar.close();
    // The first attempt may go out on a pooled keep-alive socket the stand-in just closed: that is
    // a reset after sending (unknown, rightly). A fresh connection is then refused.
    let error: unknown;
    for (let i = 0; i < 5 && !/ECONNREFUSED/.test(String((error as Error | undefined)?.message)); i += 1) {
      error = await rejection(store.save(uniqueId('test:doc:refused'), { n: 1 }, { mode: 'overwrite' }));
      expect(error).toBeInstanceOf(StoreUnreachable);
    }
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect((error as Unavailable).outcomeUnknown).toBe(false);
  });

  it('knows a save never sent (sidecar not ready, budget spent, circuit open) did not happen', async () => {
    const nobody = connectDaprSidecar({ host: '127.0.0.1', httpPort: await freePort() });
    opened.push(nobody);
    const store = createDaprStateStore(nobody, 'statestore', { timeoutMs: 200, breakerThreshold: 1, breakerHalfOpenAfterMs: 60_000 });
    const notReady = await rejection(store.save('test:doc:never', { n: 1 }, { mode: 'overwrite' }));
    expect(notReady).toBeInstanceOf(StoreUnreachable);
    expect((notReady as Unavailable).outcomeUnknown).toBe(false);
    const circuitOpen = await rejection(store.save('test:doc:never', { n: 1 }, { mode: 'overwrite' }));
    expect((circuitOpen as Error).message).toMatch(/circuit open/);
    expect((circuitOpen as Unavailable).outcomeUnknown).toBe(false);

    const spent = await rejection(runWithDeadline(performance.now() - 1, () => store.save('test:doc:never', 1, { mode: 'overwrite' })));
    expect((spent as Error).message).toMatch(/time budget is spent/);
    expect((spent as Unavailable).outcomeUnknown).toBe(false);
  });
});

describe('the request budget in the adapter', () => {
  it('cuts a call short at the budget, and such a cut never opens the circuit', async () => {
    const hung = await startFaultySidecar('hang');
    const connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: hung.port });
    await connection.whenReady();
    const store = createDaprStateStore(connection, 'statestore', {
      timeoutMs: 30_000,
      breakerThreshold: 1,
      breakerHalfOpenAfterMs: 60_000,
    });
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      const error = await rejection(runWithDeadline(performance.now() + 150, () => store.get('test:doc:budget')));
      // Bounded by the budget, not by the 30 s call timeout (generous slack for a loaded machine).
      expect(performance.now() - started).toBeLessThan(150 + 5000);
      expect(error).toBeInstanceOf(Unavailable);
      expect(error).not.toBeInstanceOf(StoreUnreachable);
      expect((error as Error).message).toMatch(/time budget ran out/);
    }
    await connection.close();
    await hung.close();
  });

  it('lets only a call with a whole timeout left probe a circuit that is not closed', async () => {
    const hung = await startFaultySidecar('hang');
    const connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: hung.port });
    await connection.whenReady();
    const store = createDaprStateStore(connection, 'statestore', { timeoutMs: 300, breakerThreshold: 1, breakerHalfOpenAfterMs: 200 });
    await expect(store.get('test:doc:probe')).rejects.toThrow(/timed out after 300 ms/);
    await new Promise((resolve) => setTimeout(resolve, 250));
    // Half-open time, but this call has 100 ms: it fails at once, uncounted, and probes nothing.
    const short = await rejection(runWithDeadline(performance.now() + 100, () => store.get('test:doc:probe')));
    expect(short).toBeInstanceOf(Unavailable);
    expect(short).not.toBeInstanceOf(StoreUnreachable);
    expect((short as Error).message).toMatch(/circuit open/);
    // So the next call with its full time is the probe; the store still hangs, so it opens again.
    await expect(store.get('test:doc:probe')).rejects.toThrow(/timed out after 300 ms/);
    await expect(store.get('test:doc:probe')).rejects.toThrow(/circuit open/);
    await connection.close();
    await hung.close();
  });
});
