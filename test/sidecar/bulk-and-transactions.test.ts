import { describe, expect, it } from 'vitest';
import { postJson, postRaw, read, storeCalls, uniqueKey, useHarness } from './helpers.js';

const h = useHarness();
const { save, get, transact } = storeCalls(h);

describe('POST /v1.0/state/{store}/bulk', () => {
  it('answers in request order, with absent keys carrying no data', async () => {
    const [a, b, absent] = [uniqueKey('bulk-a'), uniqueKey('bulk-b'), uniqueKey('bulk-absent')];
    await save([
      { key: a, value: { n: 1 } },
      { key: b, value: 'two' },
    ]);
    await save([{ key: b, value: 'two again' }]);

    const { status, body } = await read(await postJson(h.url('/state/statestore/bulk'), { keys: [b, absent, a], parallelism: 2 }));
    expect(status).toBe(200);
    expect(body).toEqual([{ key: b, data: 'two again', etag: '2' }, { key: absent }, { key: a, data: { n: 1 }, etag: '1' }]);
  });

  it('answers [] for no keys', async () => {
    expect(await read(await postJson(h.url('/state/statestore/bulk'), { keys: [] }))).toMatchObject({ status: 200, body: [] });
  });

  it("ends the JSON document with a newline and names its content type, as Go's encoder does", async () => {
    const response = await postJson(h.url('/state/statestore/bulk'), { keys: [uniqueKey('bulk-newline')] });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toMatch(/^\[\{"key":"bulk-newline-[^"]+"\}\]\n$/);
  });

  it('rejects a malformed body with 400 ERR_MALFORMED_REQUEST', async () => {
    const { status, body } = await read(await postRaw(h.url('/state/statestore/bulk'), '{"keys": "a"}'));
    expect(status).toBe(400);
    expect(body).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
  });

  it('treats GET …/bulk as a read of the key "bulk"', async () => {
    expect((await fetch(h.url('/state/statestore/bulk'))).status).toBe(204);
  });
});

describe('POST /v1.0/state/{store}/transaction', () => {
  it('applies upserts and deletes in order and answers 204', async () => {
    const [kept, removed] = [uniqueKey('tx-kept'), uniqueKey('tx-removed')];
    await save([{ key: removed, value: 'old' }]);

    const response = await transact({
      operations: [
        { operation: 'upsert', request: { key: kept, value: 'v1' } },
        { operation: 'upsert', request: { key: kept, value: 'v2' } },
        { operation: 'delete', request: { key: removed } },
      ],
    });
    expect(response.status).toBe(204);
    expect(await get(kept)).toMatchObject({ status: 200, etag: '2', body: 'v2' });
    expect((await get(removed)).status).toBe(204);
  });

  it("copies URL metadata into every operation, over the operation's own (daprd 1.14.5 and later)", async () => {
    const [plain, ownTtl, deleted] = [uniqueKey('tx-query-ttl'), uniqueKey('tx-query-own'), uniqueKey('tx-query-del')];
    await save([{ key: deleted, value: 'old' }]);
    const response = await postJson(h.url('/state/statestore/transaction?metadata.ttlInSeconds=10'), {
      operations: [
        { operation: 'upsert', request: { key: plain, value: 'inherits' } },
        { operation: 'upsert', request: { key: ownTtl, value: 'overridden', metadata: { ttlInSeconds: '1000' } } },
        { operation: 'delete', request: { key: deleted } },
      ],
    });
    expect(response.status).toBe(204);
    expect((await get(deleted)).status).toBe(204);
    h.clock.advanceSeconds(9);
    expect(await get(plain)).toMatchObject({ status: 200, body: 'inherits' });
    h.clock.advanceSeconds(2);
    expect((await get(plain)).status).toBe(204);
    expect((await get(ownTtl)).status).toBe(204);
  });

  it('answers 500 ERR_STATE_TRANSACTION for a stale ETag, without rolling back the other operations', async () => {
    const [stale, other] = [uniqueKey('tx-stale'), uniqueKey('tx-other')];
    await save([{ key: stale, value: 'a' }]);
    await save([{ key: stale, value: 'b' }]);

    const { status, body } = await read(
      await transact({
        operations: [
          { operation: 'upsert', request: { key: stale, value: 'c', etag: '1' } },
          { operation: 'upsert', request: { key: other, value: 'written' } },
        ],
      }),
    );
    expect(status).toBe(500);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_TRANSACTION' });
    expect(await get(stale)).toMatchObject({ body: 'b' });
    expect(await get(other)).toMatchObject({ status: 200, body: 'written' });
  });

  it('answers 500 and writes nothing when an ETag cannot be parsed', async () => {
    const [first, second] = [uniqueKey('tx-parse-a'), uniqueKey('tx-parse-b')];
    await save([{ key: second, value: 'b' }]);
    const response = await transact({
      operations: [
        { operation: 'upsert', request: { key: first, value: 'a' } },
        { operation: 'upsert', request: { key: second, value: 'c', etag: 'x' } },
      ],
    });
    expect(response.status).toBe(500);
    expect((await get(first)).status).toBe(204);
  });

  it('rejects an ETag sent as an object (the SDK typing trap) with 400 ERR_MALFORMED_REQUEST', async () => {
    const { status, body } = await read(
      await transact({ operations: [{ operation: 'upsert', request: { key: uniqueKey('tx-obj'), value: 1, etag: { value: '1' } } }] }),
    );
    expect(status).toBe(400);
    expect(body).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
  });

  it('rejects an unknown operation with 400 ERR_NOT_SUPPORTED_STATE_OPERATION', async () => {
    const { status, body } = await read(
      await transact({ operations: [{ operation: 'merge', request: { key: uniqueKey('tx-merge'), value: 1 } }] }),
    );
    expect(status).toBe(400);
    expect(body).toMatchObject({ errorCode: 'ERR_NOT_SUPPORTED_STATE_OPERATION' });
  });

  it('answers 204 for no operations and 400 for malformed JSON', async () => {
    expect((await transact({ operations: [] })).status).toBe(204);
    expect((await postRaw(h.url('/state/statestore/transaction'), '{')).status).toBe(400);
  });

  it('honours per-operation ttlInSeconds but not the top-level metadata', async () => {
    const [perOp, topLevel] = [uniqueKey('tx-ttl-op'), uniqueKey('tx-ttl-top')];
    await transact({
      operations: [
        { operation: 'upsert', request: { key: perOp, value: 1, metadata: { ttlInSeconds: '10' } } },
        { operation: 'upsert', request: { key: topLevel, value: 2 } },
      ],
      metadata: { ttlInSeconds: '10' },
    });
    h.clock.advanceSeconds(10);
    expect((await get(perOp)).status).toBe(204);
    expect((await get(topLevel)).status).toBe(200);
  });

  it('never sets the first-write marker, so a later save without ETag still succeeds', async () => {
    const key = uniqueKey('tx-fw');
    await transact({ operations: [{ operation: 'upsert', request: { key, value: 1, options: { concurrency: 'first-write' } } }] });
    expect((await save([{ key, value: 2 }])).status).toBe(204);
  });
});
