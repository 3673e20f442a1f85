import { describe, expect, it } from 'vitest';
import { postJson, read, storeCalls, uniqueKey, useHarness } from './helpers.js';

const h = useHarness();
const { save, get, del } = storeCalls(h);

describe('ETags (state.redis semantics)', () => {
  it('counts versions "1", "2", … and accepts the current ETag', async () => {
    const key = uniqueKey('versions');
    await save([{ key, value: 'a' }]);
    expect(await get(key)).toEqual({ status: 200, etag: '1', body: 'a' });

    expect((await save([{ key, value: 'b', etag: '1' }])).status).toBe(204);
    expect(await get(key)).toEqual({ status: 200, etag: '2', body: 'b' });
  });

  it('answers 409 ERR_STATE_SAVE for a stale ETag and keeps the value', async () => {
    const key = uniqueKey('stale');
    await save([{ key, value: 'a' }]);
    await save([{ key, value: 'b' }]);

    const { status, body } = await read(await save([{ key, value: 'c', etag: '1' }]));
    expect(status).toBe(409);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_SAVE' });
    expect((body as { message: string }).message).toContain('possible etag mismatch');
    expect(await get(key)).toMatchObject({ etag: '2', body: 'b' });
  });

  it('answers 400 ERR_STATE_SAVE for an ETag that is not an integer', async () => {
    const key = uniqueKey('bad-etag');
    await save([{ key, value: 'a' }]);
    const { status, body } = await read(await save([{ key, value: 'b', etag: 'not-a-number' }]));
    expect(status).toBe(400);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_SAVE' });
    expect((body as { message: string }).message).toContain('invalid etag value');
  });

  it('creates an absent key whatever ETag is sent', async () => {
    const key = uniqueKey('absent-etag');
    expect((await save([{ key, value: 'a', etag: '42' }])).status).toBe(204);
    expect(await get(key)).toMatchObject({ etag: '1', body: 'a' });
  });

  it('ignores a stale ETag when the save says last-write explicitly', async () => {
    const key = uniqueKey('last-write');
    await save([{ key, value: 'a' }]);
    await save([{ key, value: 'b' }]);
    const response = await save([{ key, value: 'c', etag: '1', options: { concurrency: 'last-write' } }]);
    expect(response.status).toBe(204);
    expect(await get(key)).toMatchObject({ etag: '3', body: 'c' });
  });

  it('answers 500 ERR_STATE_SAVE for a concurrency it does not know', async () => {
    const { status, body } = await read(await save([{ key: uniqueKey('odd-option'), value: 1, options: { concurrency: 'optimistic' } }]));
    expect(status).toBe(500);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_SAVE' });
  });
});

describe('first-write', () => {
  it('creates an absent key without ETag, then refuses a save without ETag with 500 "failed to set key"', async () => {
    const key = uniqueKey('create');
    expect((await save([{ key, value: 'first', options: { concurrency: 'first-write' } }])).status).toBe(204);

    const { status, body } = await read(await save([{ key, value: 'second', options: { concurrency: 'first-write' } }]));
    expect(status).toBe(500);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_SAVE' });
    expect((body as { message: string }).message).toContain('failed to set key');
    expect(await get(key)).toMatchObject({ etag: '1', body: 'first' });
  });

  it('keeps the marker: later last-write saves without ETag fail too, saves with the current ETag pass', async () => {
    const key = uniqueKey('sticky');
    await save([{ key, value: 'v1', options: { concurrency: 'first-write' } }]);

    expect((await save([{ key, value: 'lw' }])).status).toBe(500);
    expect((await save([{ key, value: 'lw', options: { concurrency: 'last-write' } }])).status).toBe(500);
    expect((await save([{ key, value: 'v2', etag: '1' }])).status).toBe(204);
    expect((await save([{ key, value: 'lw' }])).status).toBe(500);
    expect(await get(key)).toMatchObject({ etag: '2', body: 'v2' });
  });

  it('answers 409 for a first-write save with a stale ETag', async () => {
    const key = uniqueKey('fw-stale');
    await save([{ key, value: 'a', options: { concurrency: 'first-write' } }]);
    await save([{ key, value: 'b', etag: '1', options: { concurrency: 'first-write' } }]);
    const response = await save([{ key, value: 'c', etag: '1', options: { concurrency: 'first-write' } }]);
    expect(response.status).toBe(409);
  });

  it('overwrites a key without marker when first-write sends no ETag (Redis only guards marked keys)', async () => {
    const key = uniqueKey('unmarked');
    await save([{ key, value: 'plain' }]);
    expect((await save([{ key, value: 'fw', options: { concurrency: 'first-write' } }])).status).toBe(204);
    expect(await get(key)).toMatchObject({ etag: '2', body: 'fw' });
  });
});

describe('saving several items', () => {
  it('answers 409 for one stale item while writing the others', async () => {
    const stale = uniqueKey('multi-stale');
    const fresh = uniqueKey('multi-fresh');
    await save([{ key: stale, value: 'a' }]);
    await save([{ key: stale, value: 'b' }]);

    const response = await save([
      { key: stale, value: 'c', etag: '1' },
      { key: fresh, value: 'new' },
    ]);
    expect(response.status).toBe(409);
    expect(await get(fresh)).toMatchObject({ status: 200, body: 'new' });
    expect(await get(stale)).toMatchObject({ body: 'b' });
  });
});

describe('delete with ETag', () => {
  it('answers 409 ERR_STATE_DELETE for a wrong ETag and keeps the key', async () => {
    const key = uniqueKey('del-stale');
    await save([{ key, value: 'a' }]);
    const { status, body } = await read(await del(key, '7'));
    expect(status).toBe(409);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_DELETE' });
    expect((await get(key)).status).toBe(200);
  });

  it('deletes with the current ETag', async () => {
    const key = uniqueKey('del-current');
    await save([{ key, value: 'a' }]);
    expect((await del(key, '1')).status).toBe(204);
    expect((await get(key)).status).toBe(204);
  });

  it('deletes a first-write key without ETag', async () => {
    const key = uniqueKey('del-fw');
    await save([{ key, value: 'a', options: { concurrency: 'first-write' } }]);
    expect((await del(key)).status).toBe(204);
    expect((await get(key)).status).toBe(204);
  });
});

describe('the durable store served from memory', () => {
  it('follows the same rules for now', async () => {
    const key = uniqueKey('durable');
    await postJson(h.url('/state/statestore-durable'), [{ key, value: 1 }]);
    await postJson(h.url('/state/statestore-durable'), [{ key, value: 2 }]);
    const response = await postJson(h.url('/state/statestore-durable'), [{ key, value: 3, etag: '1' }]);
    expect(response.status).toBe(409);
  });
});
