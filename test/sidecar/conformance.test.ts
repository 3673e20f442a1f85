import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAPRD_VERSION, loadStateComponents, type Sidecar, type SidecarOptions, startSidecar } from '../../dev/sidecar/server.js';
import { missing } from '../support/services.js';
import { componentsDir } from '../support/stack.js';
import { read, uniqueKey } from './helpers.js';

/**
 * One behaviour suite for the stand-in's state API, run against every backend. Where Dapr's two
 * components differ, the expectation names the flavour; everything else must be the same. The
 * expectations are daprd 1.16.4's (see dev/sidecar/daprd-release.ts), and they include the
 * state, metadata and health cases of the Dapr JavaScript SDK's own end-to-end tests, restated here.
 * Time is real here (Redis EXPIRE, PostgreSQL now()), so TTL checks wait a little over a second.
 */
interface Target {
  name: string;
  backends: SidecarOptions['backends'];
  store: string;
  flavour: 'redis' | 'postgresql';
  needs: Array<'redis' | 'postgres'>;
}

const targets: Target[] = [
  { name: 'memory (state.redis semantics)', backends: 'memory', store: 'statestore', flavour: 'redis', needs: [] },
  { name: 'memory (state.postgresql semantics)', backends: 'memory', store: 'statestore-durable', flavour: 'postgresql', needs: [] },
  { name: 'Redis', backends: 'real', store: 'statestore', flavour: 'redis', needs: ['redis'] },
  { name: 'PostgreSQL v2', backends: 'real', store: 'statestore-durable', flavour: 'postgresql', needs: ['postgres'] },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(targets.filter((t) => !missing(...t.needs)))('state API conformance: $name', (target) => {
  let sidecar: Sidecar;
  const url = (path = '') => `${sidecar.url}/v1.0/state/${target.store}${path}`;
  const postTo = (address: string, body: unknown) =>
    fetch(address, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const post = (path: string, body: unknown) => postTo(url(path), body);
  const save = (items: unknown[]) => post('', items);
  const get = async (key: string) => read(await fetch(url(`/${key}`)));
  const del = (key: string, etag?: string) => fetch(url(`/${key}`), { method: 'DELETE', headers: etag ? { 'if-match': etag } : {} });
  const redisOr = <T>(redis: T, postgresql: T): T => (target.flavour === 'redis' ? redis : postgresql);

  beforeAll(async () => {
    sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir), backends: target.backends });
  });

  afterAll(async () => {
    await sidecar.close();
  });

  it('answers 204 with no body for an absent key', async () => {
    expect(await get(uniqueKey('absent'))).toEqual({ status: 204, etag: null, body: '' });
  });

  it('round-trips a JSON value with an ETag', async () => {
    const key = uniqueKey('roundtrip');
    const value = { text: 'héllo "quoted"', n: 1.5, list: [1, null, true], nested: { a: {} } };
    expect((await save([{ key, value }])).status).toBe(204);
    const stored = await get(key);
    expect(stored).toEqual({ status: 200, etag: expect.any(String), body: value });
  });

  it('accepts the current ETag, moves it on, and refuses the old one with 409', async () => {
    const key = uniqueKey('etag');
    await save([{ key, value: 1 }]);
    const first = await get(key);
    expect((await save([{ key, value: 2, etag: first.etag }])).status).toBe(204);
    const second = await get(key);
    expect(second.etag).not.toBe(first.etag);
    const stale = await save([{ key, value: 3, etag: first.etag }]);
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { errorCode: string }).errorCode).toBe('ERR_STATE_SAVE');
    expect((await get(key)).body).toBe(2);
  });

  it(`answers an ETag on an absent key with ${redisOr('a write (Redis)', '409 (PostgreSQL)')}`, async () => {
    const key = uniqueKey('etag-absent');
    const etag = redisOr('7', '00000000-0000-4000-8000-000000000000');
    expect((await save([{ key, value: 1, etag }])).status).toBe(redisOr(204, 409));
  });

  it(`answers an ETag the store cannot parse with ${redisOr('400 (Redis)', '409 (PostgreSQL)')}`, async () => {
    const key = uniqueKey('etag-garbled');
    await save([{ key, value: 1 }]);
    expect((await save([{ key, value: 2, etag: 'not-an-etag' }])).status).toBe(redisOr(400, 409));
  });

  it('refuses a first-write save without ETag on a key created first-write: 500 "already exists"', async () => {
    const key = uniqueKey('first-write');
    expect((await save([{ key, value: 'one', options: { concurrency: 'first-write' } }])).status).toBe(204);
    const again = await save([{ key, value: 'two', options: { concurrency: 'first-write' } }]);
    expect(again.status).toBe(500);
    expect(((await again.json()) as { message: string }).message).toMatch(redisOr(/failed to set key/, /no item was updated/));
    expect((await get(key)).body).toBe('one');
  });

  it(`${redisOr('lets', 'refuses')} a first-write save without ETag over a key written last-write${redisOr(' (no marker)', ' (500)')}`, async () => {
    const key = uniqueKey('first-after-last');
    await save([{ key, value: 'one' }]);
    const response = await save([{ key, value: 'two', options: { concurrency: 'first-write' } }]);
    expect(response.status).toBe(redisOr(204, 500));
    expect((await get(key)).body).toBe(redisOr('two', 'one'));
  });

  it('treats an empty ETag as no ETag for the write, yet reports a refusal as an ETag mismatch (Redis)', async () => {
    const key = uniqueKey('empty-etag');
    await save([{ key, value: 'one', options: { concurrency: 'first-write' } }]);
    const refused = await save([{ key, value: 'two', etag: '' }]);
    expect(refused.status).toBe(redisOr(409, 204));
  });

  it('lets last-write overwrite a key that was never written first-write', async () => {
    const key = uniqueKey('last-write');
    await save([{ key, value: 'one' }]);
    expect((await save([{ key, value: 'two', options: { concurrency: 'last-write' } }])).status).toBe(204);
    expect((await get(key)).body).toBe('two');
  });

  it('deletes with and without ETag, refuses a stale ETag with 409, and deletes absent keys quietly', async () => {
    const key = uniqueKey('delete');
    await save([{ key, value: 1 }]);
    const first = await get(key);
    await save([{ key, value: 2, etag: first.etag }]);
    expect((await del(key, first.etag ?? '')).status).toBe(409);
    const current = await get(key);
    expect((await del(key, current.etag ?? '')).status).toBe(204);
    expect((await get(key)).status).toBe(204);
    expect((await del(key)).status).toBe(204);
  });

  it('reads in bulk in request order, absent keys without data', async () => {
    const [a, b, absent] = [uniqueKey('bulk-a'), uniqueKey('bulk-b'), uniqueKey('bulk-absent')];
    await save([
      { key: a, value: 'A' },
      { key: b, value: 'B' },
    ]);
    const response = await read(await post('/bulk', { keys: [b, absent, a] }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual([
      { key: b, data: 'B', etag: expect.any(String) },
      { key: absent },
      { key: a, data: 'A', etag: expect.any(String) },
    ]);
  });

  it('applies a transaction of upserts and deletes', async () => {
    const [kept, removed] = [uniqueKey('tx-kept'), uniqueKey('tx-removed')];
    await save([{ key: removed, value: 'old' }]);
    const response = await post('/transaction', {
      operations: [
        { operation: 'upsert', request: { key: kept, value: 'new' } },
        { operation: 'delete', request: { key: removed } },
      ],
    });
    expect(response.status).toBe(204);
    expect((await get(kept)).body).toBe('new');
    expect((await get(removed)).status).toBe(204);
  });

  it(`fails a transaction with a stale ETag with 500, ${redisOr('keeping the other writes (no rollback)', 'rolling back the other writes')}`, async () => {
    const [stale, other] = [uniqueKey('tx-stale'), uniqueKey('tx-other')];
    await save([{ key: stale, value: 1 }]);
    const old = await get(stale);
    await save([{ key: stale, value: 2, etag: old.etag }]);
    const response = await post('/transaction', {
      operations: [
        { operation: 'upsert', request: { key: other, value: 'written?' } },
        { operation: 'upsert', request: { key: stale, value: 3, etag: old.etag } },
      ],
    });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { errorCode: string }).errorCode).toBe('ERR_STATE_TRANSACTION');
    expect((await get(other)).status).toBe(redisOr(200, 204));
    expect((await get(stale)).body).toBe(2);
  });

  // The TTL checks wait on real clocks, so they wait together.
  it.concurrent(`expires a key after ttlInSeconds${redisOr('', ' and reports ttlExpireTime')}`, async ({ expect }) => {
    const key = uniqueKey('ttl');
    await save([{ key, value: 'short-lived', metadata: { ttlInSeconds: '1' } }]);
    const live = await fetch(url(`/${key}`));
    expect(live.status).toBe(200);
    expect(live.headers.get('metadata.ttlexpiretime') !== null).toBe(target.flavour === 'postgresql');
    await sleep(2100);
    expect((await get(key)).status).toBe(204);
  });

  it.concurrent(`${redisOr('keeps', 'clears')} the TTL on a save that names none`, async ({ expect }) => {
    const key = uniqueKey('ttl-kept');
    await save([{ key, value: 1, metadata: { ttlInSeconds: '1' } }]);
    await save([{ key, value: 2 }]);
    await sleep(2100);
    expect((await get(key)).status).toBe(redisOr(204, 200));
  });

  it.concurrent('removes a TTL with ttlInSeconds -1', async ({ expect }) => {
    const key = uniqueKey('ttl-removed');
    await save([{ key, value: 1, metadata: { ttlInSeconds: '1' } }]);
    await save([{ key, value: 2, metadata: { ttlInSeconds: '-1' } }]);
    await sleep(2100);
    expect((await get(key)).body).toBe(2);
  });

  it.concurrent(`${redisOr('writes', 'refuses (409)')} a first-write save with an ETag and a TTL on an absent key${redisOr(', which then expires', '')}`, async ({
    expect,
  }) => {
    const key = uniqueKey('etag-ttl-absent');
    const etag = redisOr('1234', '00000000-0000-4000-8000-000000000000');
    const item = {
      key,
      value: 'v',
      etag,
      options: { concurrency: 'first-write', consistency: 'strong' },
      metadata: { hello: 'world', ttlInSeconds: '1' },
    };
    expect((await save([item])).status).toBe(redisOr(204, 409));
    expect((await get(key)).status).toBe(redisOr(200, 204));
    await sleep(2100);
    expect((await get(key)).status).toBe(204);
  });

  it.concurrent("lets URL metadata on a save win over every item's own", async ({ expect }) => {
    const [own, none] = [uniqueKey('save-query-own'), uniqueKey('save-query-none')];
    const [ownShort, noneShort] = [uniqueKey('save-query-own-short'), uniqueKey('save-query-none-short')];
    const response = await post('?metadata.ttlInSeconds=60', [
      { key: own, value: 1, metadata: { ttlInSeconds: '1' } },
      { key: none, value: 2 },
    ]);
    expect(response.status).toBe(204);
    // The other way round: a short URL TTL expires items that asked for a long one, and those that asked for none.
    const short = await post('?metadata.ttlInSeconds=1', [
      { key: ownShort, value: 3, metadata: { ttlInSeconds: '60' } },
      { key: noneShort, value: 4 },
    ]);
    expect(short.status).toBe(204);
    await sleep(2100);
    expect((await get(own)).body).toBe(1);
    expect((await get(none)).body).toBe(2);
    expect((await get(ownShort)).status).toBe(204);
    expect((await get(noneShort)).status).toBe(204);
  });

  it.concurrent("copies URL metadata on a transaction into every operation, over the operation's own", async ({ expect }) => {
    const [plain, own] = [uniqueKey('tx-query-plain'), uniqueKey('tx-query-own')];
    const response = await post('/transaction?metadata.ttlInSeconds=1', {
      operations: [
        { operation: 'upsert', request: { key: plain, value: 1 } },
        { operation: 'upsert', request: { key: own, value: 2, metadata: { ttlInSeconds: '60' } } },
      ],
    });
    expect(response.status).toBe(204);
    await sleep(2100);
    expect((await get(plain)).status).toBe(204);
    expect((await get(own)).status).toBe(204);
  });

  it.concurrent("keeps a transaction's body metadata at transaction level: it sets no TTL on the operations", async ({ expect }) => {
    const key = uniqueKey('tx-body-meta');
    const response = await post('/transaction', {
      operations: [{ operation: 'upsert', request: { key, value: 1 } }],
      metadata: { ttlInSeconds: '1' },
    });
    expect(response.status).toBe(204);
    await sleep(2100);
    expect((await get(key)).body).toBe(1);
  });

  it("rejects a key containing || with 400 and daprd's illegal-key details", async () => {
    const { status, body } = await read(await save([{ key: 'a||b', value: 1 }]));
    expect(status).toBe(400);
    expect(body).toMatchObject({
      errorCode: 'ERR_MALFORMED_REQUEST',
      details: [{ field_violations: [{ field: 'a||b' }] }, { resource_name: target.store }, { reason: 'DAPR_STATE_ILLEGAL_KEY' }],
    });
  });

  it('saves several items in one call, each readable on its own', async () => {
    const keys = [uniqueKey('many-1'), uniqueKey('many-2'), uniqueKey('many-3')];
    expect((await save(keys.map((key, i) => ({ key, value: `value-${i}` })))).status).toBe(204);
    expect(await Promise.all(keys.map(async (key) => (await get(key)).body))).toEqual(['value-0', 'value-1', 'value-2']);
  });

  it(`answers the query API with 500 ${redisOr('ERR_STATE_QUERY (no RedisJSON)', 'ERR_STATE_STORE_NOT_SUPPORTED (no query support)')}`, async () => {
    const query = { filter: { EQ: { state: 'WA' } }, sort: [{ key: 'state', order: 'DESC' }], page: { limit: 10 } };
    const { status, body } = await read(await postTo(`${sidecar.url}/v1.0-alpha1/state/${target.store}/query`, query));
    expect(status).toBe(500);
    const resource = {
      '@type': 'type.googleapis.com/google.rpc.ResourceInfo',
      description: '',
      owner: '',
      resource_name: target.store,
      resource_type: 'state',
    };
    const info = (reason: string) => ({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', domain: 'dapr.io', metadata: null, reason });
    expect(body).toEqual(
      redisOr(
        {
          errorCode: 'ERR_STATE_QUERY',
          message: `state store ${target.store} query failed: redis-json server support is required for query capability`,
          details: [resource, info('DAPR_STATE_QUERY_FAILED')],
        },
        {
          errorCode: 'ERR_STATE_STORE_NOT_SUPPORTED',
          message: 'state store does not support querying',
          details: [resource, info('DAPR_STATE_QUERYING_NOT_SUPPORTED')],
        },
      ),
    );
  });

  it('answers 400 ERR_STATE_STORE_NOT_FOUND with the app id for a store the app does not have', async () => {
    const { status, body } = await read(await fetch(`${sidecar.url}/v1.0/state/${target.store}-missing/k`));
    expect(status).toBe(400);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_STORE_NOT_FOUND', details: [{ metadata: { appID: 'state-api' } }] });
  });

  it(`reports the store in /v1.0/metadata with its capabilities, daprd ${DAPRD_VERSION}, and custom values`, async () => {
    expect((await fetch(`${sidecar.url}/v1.0/metadata/conformance`, { method: 'PUT', body: target.name })).status).toBe(204);
    const { status, body } = await read(await fetch(`${sidecar.url}/v1.0/metadata`));
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: 'state-api', runtimeVersion: '1.16.4', extended: { conformance: target.name } });
    const components = (body as { components: Array<{ name: string; capabilities: string[] }> }).components;
    expect(components.find((c) => c.name === target.store)?.capabilities).toEqual(['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR']);
  });

  it('answers 204 on /v1.0/healthz and /v1.0/healthz/outbound', async () => {
    expect((await fetch(`${sidecar.url}/v1.0/healthz`)).status).toBe(204);
    expect((await fetch(`${sidecar.url}/v1.0/healthz/outbound`)).status).toBe(204);
  });
});
