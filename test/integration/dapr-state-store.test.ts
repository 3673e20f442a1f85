import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateComponents, startSidecar, type Sidecar } from '../../dev/sidecar/server.js';
import { AlreadyExists, Conflict, Unavailable } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { connectDaprSidecar, createDaprStateStore, type DaprSidecar } from '../../shared/state/dapr-state-store.js';
import type { StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';

const componentsDir = fileURLToPath(new URL('../../components', import.meta.url));

describe('the Dapr state adapter through the real DaprClient', () => {
  let clock = Date.now();
  let sidecar: Sidecar;
  let client: DaprSidecar;
  let hot: StateStore;
  let durable: StateStore;

  beforeAll(async () => {
    sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir), now: () => clock });
    client = connectDaprSidecar({ host: '127.0.0.1', httpPort: sidecar.port });
    hot = createDaprStateStore(client, 'statestore', { timeoutMs: 2000 });
    durable = createDaprStateStore(client, 'statestore-durable', { timeoutMs: 2000 });
  });

  afterAll(async () => {
    await client.close();
    await sidecar.close();
  });

  it('reads an absent key as null', async () => {
    await expect(hot.get(uniqueId('chat:history:absent'))).resolves.toBeNull();
  });

  it('round-trips a value with its ETag, and a compare-and-set moves the ETag on', async () => {
    const key = uniqueId('test:doc:etag');
    await hot.save(key, { n: 1 }, { mode: 'create-only' });
    const first = await hot.get(key);
    expect(first).toEqual({ value: { n: 1 }, etag: expect.any(String) });
    await hot.save(key, { n: 2 }, { mode: 'compare-and-set', etag: first?.etag ?? '' });
    const second = await hot.get(key);
    expect(second?.value).toEqual({ n: 2 });
    expect(second?.etag).not.toBe(first?.etag);
  });

  it('rejects a save with a stale ETag as a Conflict and keeps the stored value', async () => {
    const key = uniqueId('test:doc:stale');
    await hot.save(key, { n: 1 }, { mode: 'create-only' });
    const stale = await hot.get(key);
    await hot.save(key, { n: 2 }, { mode: 'compare-and-set', etag: stale?.etag ?? '' });
    await expect(hot.save(key, { n: 3 }, { mode: 'compare-and-set', etag: stale?.etag ?? '' })).rejects.toBeInstanceOf(Conflict);
    expect((await hot.get(key))?.value).toEqual({ n: 2 });
  });

  it('reads conflicts as conflicts even when the key spells a network error', async () => {
    const key = uniqueId('test:doc:eof-ETIMEDOUT-ECONNREFUSED-dial_tcp');
    await hot.save(key, { n: 1 }, { mode: 'create-only' });
    const stale = await hot.get(key);
    await hot.save(key, { n: 2 }, { mode: 'compare-and-set', etag: stale?.etag ?? '' });
    await expect(hot.save(key, { n: 3 }, { mode: 'compare-and-set', etag: stale?.etag ?? '' })).rejects.toBeInstanceOf(Conflict);
    await expect(hot.save(key, { n: 3 }, { mode: 'create-only' })).rejects.toBeInstanceOf(AlreadyExists);
    await expect(hot.delete(key, { etag: stale?.etag ?? '' })).rejects.toBeInstanceOf(Conflict);
  });

  it('treats an ETag the store cannot parse as a Conflict', async () => {
    const key = uniqueId('test:doc:garbled');
    await hot.save(key, { n: 1 }, { mode: 'create-only' });
    await expect(hot.save(key, { n: 2 }, { mode: 'compare-and-set', etag: 'not-a-version' })).rejects.toBeInstanceOf(Conflict);
  });

  it('reports a create-only save on an existing key as AlreadyExists, not a plain conflict', async () => {
    const key = uniqueId('test:doc:create');
    await hot.save(key, { owner: 'first' }, { mode: 'create-only' });
    const error = await hot.save(key, { owner: 'second' }, { mode: 'create-only' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlreadyExists);
    expect((await hot.get(key))?.value).toEqual({ owner: 'first' });
  });

  it('expires a key after its TTL', async () => {
    const key = uniqueId('test:doc:ttl');
    await hot.save(key, { n: 1 }, { mode: 'create-only', ttlSeconds: 60 });
    clock += 59_000;
    expect(await hot.get(key)).not.toBeNull();
    clock += 2_000;
    expect(await hot.get(key)).toBeNull();
  });

  it('lets last-write overwrite whatever is stored', async () => {
    const key = uniqueId('test:doc:overwrite');
    await hot.save(key, { n: 1 }, { mode: 'overwrite' });
    await hot.save(key, { n: 2 }, { mode: 'overwrite' });
    expect((await hot.get(key))?.value).toEqual({ n: 2 });
  });

  it('reads in bulk in request order, with absent keys as null entries', async () => {
    const [a, b, c] = [uniqueId('test:bulk:a'), uniqueId('test:bulk:b'), uniqueId('test:bulk:c')];
    await durable.save(a, { name: 'a' }, { mode: 'create-only' });
    await durable.save(c, { name: 'c' }, { mode: 'create-only' });
    const entries = await durable.getBulk([c, b, a]);
    expect(entries).toEqual([
      { key: c, entry: { value: { name: 'c' }, etag: expect.any(String) } },
      { key: b, entry: null },
      { key: a, entry: { value: { name: 'a' }, etag: expect.any(String) } },
    ]);
  });

  it('applies a transaction of upserts and deletes', async () => {
    const [keep, drop] = [uniqueId('test:tx:keep'), uniqueId('test:tx:drop')];
    await durable.save(drop, { n: 0 }, { mode: 'create-only' });
    const current = await durable.get(drop);
    await durable.transaction([
      { kind: 'upsert', key: keep, value: { n: 1 }, options: { mode: 'overwrite', ttlSeconds: 120 } },
      { kind: 'delete', key: drop, etag: current?.etag ?? '' },
    ]);
    expect((await durable.get(keep))?.value).toEqual({ n: 1 });
    expect(await durable.get(drop)).toBeNull();
    clock += 121_000;
    expect(await durable.get(keep)).toBeNull();
  });

  it('reports a transaction with a stale ETag as a Conflict', async () => {
    const key = uniqueId('test:tx:stale');
    await durable.save(key, { n: 1 }, { mode: 'create-only' });
    const stale = await durable.get(key);
    await durable.save(key, { n: 2 }, { mode: 'compare-and-set', etag: stale?.etag ?? '' });
    await expect(
      durable.transaction([{ kind: 'upsert', key, value: { n: 3 }, options: { mode: 'compare-and-set', etag: stale?.etag ?? '' } }]),
    ).rejects.toBeInstanceOf(Conflict);
  });

  it('deletes, and refuses a delete with a stale ETag', async () => {
    const key = uniqueId('test:doc:delete');
    await hot.save(key, { n: 1 }, { mode: 'create-only' });
    const stale = await hot.get(key);
    await hot.save(key, { n: 2 }, { mode: 'compare-and-set', etag: stale?.etag ?? '' });
    await expect(hot.delete(key, { etag: stale?.etag ?? '' })).rejects.toBeInstanceOf(Conflict);
    await hot.delete(key);
    expect(await hot.get(key)).toBeNull();
    await expect(hot.delete(key)).resolves.toBeUndefined();
  });

  it('answers a ping while the store is served', async () => {
    await expect(hot.ping()).resolves.toBeUndefined();
  });
});

describe('the Dapr state adapter when the sidecar fails', () => {
  let client: DaprSidecar;

  afterAll(async () => {
    await client?.close();
  });

  it('fails with Unavailable within the timeout once the stand-in has stopped', async () => {
    const sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    client = connectDaprSidecar({ host: '127.0.0.1', httpPort: sidecar.port });
    const store = createDaprStateStore(client, 'statestore', { timeoutMs: 500 });
    await store.save(uniqueId('test:doc:before'), { n: 1 }, { mode: 'overwrite' });
    await sidecar.close();
    const started = Date.now();
    await expect(store.get(uniqueId('test:doc:after'))).rejects.toBeInstanceOf(Unavailable);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('times out a sidecar that accepts but never answers, and opens the circuit on repeated timeouts', async () => {
    const silent = await startSilentServer();
    const store = createDaprStateStore(connectDaprSidecar({ host: '127.0.0.1', httpPort: silent.port }), 'statestore', {
      timeoutMs: 200,
      breakerThreshold: 2,
      breakerHalfOpenAfterMs: 60_000,
    });
    const started = Date.now();
    const first = await store.get('test:doc:hung').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(first).toBeInstanceOf(Unavailable);
    expect((first as Error).message).toMatch(/timed out after 200 ms/);
    await expect(store.get('test:doc:hung')).rejects.toThrow(/timed out/);
    await expect(store.get('test:doc:hung')).rejects.toThrow(/circuit open/);
    await silent.close();
  });

  it('starts working once a sidecar that was not up yet comes up', async () => {
    const port = await freePort();
    const connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: port });
    const store = createDaprStateStore(connection, 'statestore', { timeoutMs: 300, breakerThreshold: 100 });
    await expect(store.ping()).rejects.toBeInstanceOf(Unavailable);
    const sidecar = await startSidecar({ port, appId: 'state-api', components: await loadStateComponents(componentsDir) });
    let answered = false;
    for (let i = 0; i < 20 && !answered; i += 1) {
      answered = await store.ping().then(
        () => true,
        () => false,
      );
    }
    expect(answered).toBe(true);
    await connection.close();
    await sidecar.close();
  });

  it('never opens the circuit for conflicts', async () => {
    const sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    const connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: sidecar.port });
    const store = createDaprStateStore(connection, 'statestore', { timeoutMs: 1000, breakerThreshold: 2 });
    const key = uniqueId('test:doc:conflicts');
    await store.save(key, { n: 1 }, { mode: 'create-only' });
    for (let i = 0; i < 5; i += 1) {
      await expect(store.save(key, { n: 2 }, { mode: 'create-only' })).rejects.toBeInstanceOf(AlreadyExists);
      await expect(store.save(key, { n: 2 }, { mode: 'compare-and-set', etag: '999' })).rejects.toBeInstanceOf(Conflict);
    }
    await expect(store.get(key)).resolves.toMatchObject({ value: { n: 1 } });
    await connection.close();
    await sidecar.close();
  });

  it('opens the circuit after repeated failures and then fails fast', async () => {
    const sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    const store = createDaprStateStore(connectDaprSidecar({ host: '127.0.0.1', httpPort: sidecar.port }), 'statestore', {
      timeoutMs: 500,
      breakerThreshold: 2,
      breakerHalfOpenAfterMs: 60_000,
    });
    await store.ping();
    await sidecar.close();
    await expect(store.ping()).rejects.toBeInstanceOf(Unavailable);
    await expect(store.ping()).rejects.toBeInstanceOf(Unavailable);
    const error = await store.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Error).message).toMatch(/circuit open/);
  });
});

describe('the Dapr SDK behind the adapter', () => {
  it('never writes the Dapr API token into our logs', async () => {
    process.env.DAPR_API_TOKEN = 'token-that-must-not-leak';
    const lines: string[] = [];
    const logger = createLogger('trace', new Writable({ write: (chunk, _enc, done) => done(void lines.push(String(chunk))) }));
    const sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    const connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: sidecar.port, logger });
    const store = createDaprStateStore(connection, 'statestore', { timeoutMs: 1000 });
    const key = uniqueId('test:doc:token');
    await store.save(key, { n: 1 }, { mode: 'create-only' });
    await store.save(key, { n: 1 }, { mode: 'create-only' }).catch(() => undefined);
    await store.get(key);
    await store.delete(key);
    expect(lines.join('')).not.toContain('token-that-must-not-leak');
    await connection.close();
    await sidecar.close();
    delete process.env.DAPR_API_TOKEN;
  });

  it('refuses keys our builders would never make, before calling the sidecar', async () => {
    const connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: await freePort() });
    const store = createDaprStateStore(connection, 'statestore', { timeoutMs: 100 });
    for (const key of ['a||b', 'a/b', 'a b', '']) {
      await expect(store.get(key)).rejects.toThrow(/unsafe state key/);
      await expect(store.save(key, 1, { mode: 'overwrite' })).rejects.toThrow(/unsafe state key/);
    }
    await connection.close();
  });
});

async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function freePort(): Promise<number> {
  const server = await startSilentServer();
  await server.close();
  return server.port;
}
