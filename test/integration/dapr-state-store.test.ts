import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { DaprClient } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateComponents, startSidecar, type Sidecar } from '../../dev/sidecar/server.js';
import { AlreadyExists, Conflict, Unavailable } from '../../shared/errors.js';
import { createDaprClient, createDaprStateStore } from '../../shared/state/dapr-state-store.js';
import type { StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';

const componentsDir = fileURLToPath(new URL('../../components', import.meta.url));

describe('the Dapr state adapter through the real DaprClient', () => {
  let clock = Date.now();
  let sidecar: Sidecar;
  let client: DaprClient;
  let hot: StateStore;
  let durable: StateStore;

  beforeAll(async () => {
    sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir), now: () => clock });
    client = createDaprClient({ host: '127.0.0.1', httpPort: sidecar.port });
    hot = createDaprStateStore(client, 'statestore', { timeoutMs: 2000 });
    durable = createDaprStateStore(client, 'statestore-durable', { timeoutMs: 2000 });
  });

  afterAll(async () => {
    await client.stop();
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
      { kind: 'upsert', key: keep, value: { n: 1 }, options: { mode: 'create-only', ttlSeconds: 120 } },
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
  let client: DaprClient;

  afterAll(async () => {
    await client?.stop();
  });

  it('fails with Unavailable within the timeout once the stand-in has stopped', async () => {
    const sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    client = createDaprClient({ host: '127.0.0.1', httpPort: sidecar.port });
    const store = createDaprStateStore(client, 'statestore', { timeoutMs: 500 });
    await store.save(uniqueId('test:doc:before'), { n: 1 }, { mode: 'overwrite' });
    await sidecar.close();
    const started = Date.now();
    await expect(store.get(uniqueId('test:doc:after'))).rejects.toBeInstanceOf(Unavailable);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('fails with Unavailable at the timeout when the sidecar accepts but never answers', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const store = createDaprStateStore(createDaprClient({ host: '127.0.0.1', httpPort: port }), 'statestore', { timeoutMs: 300 });
    const started = Date.now();
    await expect(store.get('test:doc:hung')).rejects.toBeInstanceOf(Unavailable);
    expect(Date.now() - started).toBeLessThan(1500);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('opens the circuit after repeated failures and then fails fast', async () => {
    const sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    const store = createDaprStateStore(createDaprClient({ host: '127.0.0.1', httpPort: sidecar.port }), 'statestore', {
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
