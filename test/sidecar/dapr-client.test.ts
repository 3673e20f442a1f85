import { CommunicationProtocolEnum, DaprClient, LogLevel, StateConcurrencyEnum, StateConsistencyEnum } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, uniqueKey, type Harness } from './helpers.js';

const STORE = 'statestore';
const FIRST_WRITE = {
  concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
  consistency: StateConsistencyEnum.CONSISTENCY_STRONG,
};

const quiet = (): void => undefined;

let h: Harness;
let client: DaprClient;
beforeAll(async () => {
  h = await startHarness();
  client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(h.sidecar.port),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    // The SDK logs every {error} it returns; the tests assert on those errors instead.
    logger: { level: LogLevel.Error, service: { error: quiet, warn: quiet, info: quiet, verbose: quiet, debug: quiet } },
  });
});
afterAll(async () => {
  await client.stop();
  await h.sidecar.close();
});

describe('the real DaprClient (HTTP) against the stand-in', () => {
  it('saves and gets a value, and gets "" for an absent key', async () => {
    const key = uniqueKey('sdk');
    expect(await client.state.save(STORE, [{ key, value: { name: 'Ada', tags: ['x'] } }])).toEqual({});
    expect(await client.state.get(STORE, key)).toEqual({ name: 'Ada', tags: ['x'] });
    expect(await client.state.get(STORE, uniqueKey('sdk-absent'))).toBe('');
  });

  it('reads ETags through getBulk, in request order', async () => {
    const [a, absent, b] = [uniqueKey('sdk-a'), uniqueKey('sdk-absent'), uniqueKey('sdk-b')];
    await client.state.save(STORE, [
      { key: a, value: 'A' },
      { key: b, value: 'B' },
    ]);
    await client.state.save(STORE, [{ key: b, value: 'B2' }]);
    expect(await client.state.getBulk(STORE, [b, absent, a])).toEqual([
      { key: b, data: 'B2', etag: '2' },
      { key: absent },
      { key: a, data: 'A', etag: '1' },
    ]);
  });

  it('returns a first-write conflict as {error} with status 409', async () => {
    const key = uniqueKey('sdk-conflict');
    await client.state.save(STORE, [{ key, value: 1, options: { ...FIRST_WRITE } }]);
    expect(await client.state.save(STORE, [{ key, value: 2, etag: '1', options: { ...FIRST_WRITE } }])).toEqual({});

    const stale = await client.state.save(STORE, [{ key, value: 3, etag: '1', options: { ...FIRST_WRITE } }]);
    expect(stale.error).toBeDefined();
    expect(JSON.parse((stale.error as Error).message)).toMatchObject({ status: 409 });
    expect(await client.state.get(STORE, key)).toBe(2);
  });

  it('deletes with and without ETag', async () => {
    const key = uniqueKey('sdk-delete');
    await client.state.save(STORE, [{ key, value: 1 }]);
    const wrong = await client.state.delete(STORE, key, { etag: '9' });
    expect(JSON.parse((wrong.error as Error).message)).toMatchObject({ status: 409 });
    expect(await client.state.delete(STORE, key, { etag: '1' })).toEqual({});
    expect(await client.state.get(STORE, key)).toBe('');
    expect(await client.state.delete(STORE, key)).toEqual({});
  });

  it('runs a transaction of upserts and deletes', async () => {
    const [kept, removed] = [uniqueKey('sdk-tx-kept'), uniqueKey('sdk-tx-removed')];
    await client.state.save(STORE, [{ key: removed, value: 'old' }]);
    await client.state.transaction(STORE, [
      { operation: 'upsert', request: { key: kept, value: { n: 1 }, metadata: { ttlInSeconds: '60' } } },
      { operation: 'delete', request: { key: removed } },
    ]);
    expect(await client.state.get(STORE, kept)).toEqual({ n: 1 });
    expect(await client.state.get(STORE, removed)).toBe('');

    h.clock.advanceSeconds(60);
    expect(await client.state.get(STORE, kept)).toBe('');
  });

  it('throws 400 for a transaction ETag in the SDK’s {value} shape, as daprd does', async () => {
    const key = uniqueKey('sdk-tx-etag');
    await expect(
      client.state.transaction(STORE, [{ operation: 'upsert', request: { key, value: 1, etag: { value: '1' } } }]),
    ).rejects.toThrow(/"status":400/);
  });

  it("reads the sidecar metadata, with each store's capabilities and a value it set itself", async () => {
    await client.metadata.set('sdk-key', 'set by the SDK');
    const metadata = await client.metadata.get();
    expect(metadata.id).toBe('test-app');
    expect(metadata.components.map((c) => c.name)).toEqual(['statestore', 'statestore-durable']);
    expect(metadata.components[0]?.capabilities).toEqual(expect.arrayContaining(['ETAG', 'TRANSACTIONAL', 'ACTOR']));
    expect(metadata.extended['sdk-key']).toBe('set by the SDK');
  });

  it('finds the sidecar healthy', async () => {
    expect(await client.health.isHealthy()).toBe(true);
  });

  it('gets a 500 from the query API, as daprd gives for stores that cannot query', async () => {
    await expect(client.state.query(STORE, { filter: { EQ: { state: 'WA' } }, sort: [], page: { limit: 10 } })).rejects.toThrow(
      /"status":500/,
    );
  });
});
