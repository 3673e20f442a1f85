import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createVersionedCache } from '../../shared/cache/versioned-cache.js';
import { createLogger } from '../../shared/logger.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';

const log = createLogger('silent');

describe('the versioned cache', () => {
  const stores = useStores();
  const setup = () => {
    const clock = { at: Date.now() };
    const cache = createVersionedCache({
      store: stores.hot,
      key: (id) => `cache:test:${id}`,
      schema: z.string(),
      ttlSeconds: 60,
      now: () => clock.at,
    });
    return { clock, cache };
  };

  it('keeps a newer revision against an older offer', async () => {
    const { cache } = setup();
    const id = uniqueId('c');
    await cache.offer(id, 'rev 2', 2, log);
    await cache.offer(id, 'rev 1', 1, log);
    expect(await cache.get(id, log)).toEqual({ status: 'HIT', value: 'rev 2' });
  });

  it('misses once an entry has expired, and never lets an older revision in after that', async () => {
    const { clock, cache } = setup();
    const id = uniqueId('c');
    await cache.offer(id, 'rev 2', 2, log);
    clock.at += 61_000;
    expect(await cache.get(id, log)).toMatchObject({ status: 'MISS' });
    await cache.offer(id, 'rev 1 from a stalled reader', 1, log);
    expect(await cache.get(id, log)).toMatchObject({ status: 'MISS' });
    await cache.offer(id, 'rev 2 again', 2, log);
    expect(await cache.get(id, log)).toEqual({ status: 'HIT', value: 'rev 2 again' });
  });
});
