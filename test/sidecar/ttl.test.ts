import { describe, expect, it } from 'vitest';
import { read, storeCalls, uniqueKey, useHarness } from './helpers.js';

const h = useHarness();
const { save } = storeCalls(h);

const status = async (key: string): Promise<number> => (await fetch(h.url(`/state/statestore/${key}`))).status;

describe('ttlInSeconds', () => {
  it('expires a key after its TTL on the injected clock', async () => {
    const key = uniqueKey('ttl');
    await save([{ key, value: 1, metadata: { ttlInSeconds: '60' } }]);
    h.clock.advanceSeconds(59);
    expect(await status(key)).toBe(200);
    h.clock.advanceSeconds(1);
    expect(await status(key)).toBe(204);
  });

  it('keeps the old TTL when a later save gives none', async () => {
    const key = uniqueKey('ttl-kept');
    await save([{ key, value: 1, metadata: { ttlInSeconds: '30' } }]);
    h.clock.advanceSeconds(20);
    await save([{ key, value: 2 }]);
    h.clock.advanceSeconds(10);
    expect(await status(key)).toBe(204);
  });

  it('removes the TTL with -1', async () => {
    const key = uniqueKey('ttl-removed');
    await save([{ key, value: 1, metadata: { ttlInSeconds: '30' } }]);
    await save([{ key, value: 2, metadata: { ttlInSeconds: '-1' } }]);
    h.clock.advanceSeconds(3600);
    expect(await read(await fetch(h.url(`/state/statestore/${key}`)))).toMatchObject({ status: 200, body: 2 });
  });

  it('applies query metadata to every item', async () => {
    const first = uniqueKey('query-ttl-a');
    const second = uniqueKey('query-ttl-b');
    await save(
      [
        { key: first, value: 1 },
        { key: second, value: 2, metadata: { ttlInSeconds: '999' } },
      ],
      '?metadata.ttlInSeconds=10',
    );
    h.clock.advanceSeconds(10);
    expect(await status(first)).toBe(204);
    expect(await status(second)).toBe(204);
  });

  it('answers 500 ERR_STATE_SAVE for a TTL that is not an integer, as the Redis component does', async () => {
    const key = uniqueKey('ttl-bad');
    const { status: code, body } = await read(await save([{ key, value: 1, metadata: { ttlInSeconds: '1.5' } }]));
    expect(code).toBe(500);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_SAVE' });
    expect((body as { message: string }).message).toContain('failed to parse ttl from metadata');
    expect(await status(key)).toBe(204);
  });

  it('forgets an expired key entirely: version and first-write marker start over', async () => {
    const key = uniqueKey('ttl-reborn');
    await save([{ key, value: 1, options: { concurrency: 'first-write' }, metadata: { ttlInSeconds: '5' } }]);
    h.clock.advanceSeconds(5);
    expect((await save([{ key, value: 2 }])).status).toBe(204);
    expect(await read(await fetch(h.url(`/state/statestore/${key}`)))).toMatchObject({ etag: '1', body: 2 });
  });
});
