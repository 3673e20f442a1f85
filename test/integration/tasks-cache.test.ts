import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.js';
import { createTasksService, MAX_TASKS_PER_USER, taskCacheKey } from '../../shared/tasks/tasks-service.js';
import { Unavailable, ValidationError } from '../../shared/errors.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';
import { deferred } from '../support/deferred.js';

const log = createLogger('silent');
const clock = { now: () => Date.now() };

describe('the tasks cache (two service instances sharing the stores)', () => {
  const stores = useStores();
  const service = (durableStore = stores.durable) =>
    createTasksService({ durable: durableStore, cache: stores.hot, clock, cacheTtlSeconds: 300 });

  it('does not let a reader that read before a mutation put the old list into the cache after it', async () => {
    const user = uniqueId('u');
    const writer = service();
    await writer.create(user, { title: 'A' }, log);
    await stores.hot.delete(taskCacheKey(user)); // start from a cold cache, so the reader misses

    // The reader is held between its durable read and its cache write.
    const readDone = deferred();
    const release = deferred();
    const reader = service({
      ...stores.durable,
      async get(key) {
        const entry = await stores.durable.get(key);
        readDone.resolve();
        await release.promise;
        return entry;
      },
    });
    const slowRead = reader.list(user, log);
    await readDone.promise;

    await writer.create(user, { title: 'B' }, log); // the mutation completes and responds
    release.resolve();
    const old = await slowRead;
    expect(old.cache).toBe('MISS');
    expect(old.tasks.map((t) => t.title)).toEqual(['A']); // it read before the mutation: that is fine

    const next = await writer.list(user, log);
    expect(next.cache).toBe('HIT');
    expect(next.tasks.map((t) => t.title)).toEqual(['A', 'B']);
  });

  it('shows a mutation made during a cache outage to another instance’s GETs within 10 s of recovery', async () => {
    const user = uniqueId('u');
    let cacheDown = false;
    const guard = <T>(call: () => Promise<T>) => (cacheDown ? Promise.reject(new Unavailable('cache: connection refused')) : call());
    const writer = createTasksService({
      durable: stores.durable,
      clock,
      cacheTtlSeconds: 300,
      cache: {
        ...stores.hot,
        get: (key) => guard(() => stores.hot.get(key)),
        save: (key, value, options) => guard(() => stores.hot.save(key, value, options)),
      },
    });
    const reader = service();
    await writer.create(user, { title: 'before' }, log);
    expect(await reader.list(user, log)).toMatchObject({ cache: 'HIT', tasks: [{ title: 'before' }] });

    cacheDown = true;
    await writer.create(user, { title: 'during' }, log);
    cacheDown = false;
    const recovered = Date.now();
    // The reader never saw the outage; only the writer knows its write-through failed, and repairs it.
    let titles: string[] = [];
    while (Date.now() - recovered < 10_000) {
      titles = (await reader.list(user, log)).tasks.map((t) => t.title);
      if (titles.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(titles).toEqual(['before', 'during']);
  });

  it('makes one durable read for concurrent misses in one instance', async () => {
    const user = uniqueId('u');
    await service().create(user, { title: 'A' }, log);
    await stores.hot.delete(taskCacheKey(user));
    const callers = 10;
    let cacheReads = 0;
    let durableReads = 0;
    let allMissed = () => {};
    const everyoneMissed = new Promise<void>((resolve) => {
      allMissed = resolve;
    });
    // The durable read waits until every caller has looked in the cache, so all of them miss.
    const counting = createTasksService({
      clock,
      cacheTtlSeconds: 300,
      cache: {
        ...stores.hot,
        async get(key) {
          const entry = await stores.hot.get(key);
          cacheReads += 1;
          if (cacheReads === callers) allMissed();
          return entry;
        },
      },
      durable: {
        ...stores.durable,
        async get(key) {
          durableReads += 1;
          await everyoneMissed;
          return stores.durable.get(key);
        },
      },
    });
    const results = await Promise.all(Array.from({ length: callers }, () => counting.list(user, log)));
    expect(durableReads).toBe(1);
    expect(results.map((r) => `${r.cache}:${r.tasks.length}`)).toEqual(results.map(() => 'MISS:1'));
    expect((await counting.list(user, log)).cache).toBe('HIT');
  });

  it('treats an entry past its own expiry as a miss on the app’s clock, while the store still keeps it', async () => {
    const user = uniqueId('u');
    const appClock = { at: Date.now(), now: () => appClock.at };
    const tasks = createTasksService({ durable: stores.durable, cache: stores.hot, clock: appClock, cacheTtlSeconds: 300 });
    await tasks.create(user, { title: 'A' }, log);
    expect((await tasks.list(user, log)).cache).toBe('HIT');
    appClock.at += 300 * 1000;
    expect(await stores.hot.get(taskCacheKey(user))).not.toBeNull();
    expect((await tasks.list(user, log)).cache).toBe('MISS');
    expect((await tasks.list(user, log)).cache).toBe('HIT');
  });

  it('treats a cache entry that does not parse as a miss and replaces it', async () => {
    const user = uniqueId('u');
    const tasks = service();
    await tasks.create(user, { title: 'A' }, log);
    await stores.hot.delete(taskCacheKey(user));
    await stores.hot.save(taskCacheKey(user), { v: 1, revision: 99, value: 'garbage' }, { mode: 'create-only' });
    expect((await tasks.list(user, log)).cache).toBe('MISS');
    const again = await tasks.list(user, log);
    expect(again).toMatchObject({ cache: 'HIT', tasks: [{ title: 'A' }] });
  });

  it('returns the same task for a create retried with the same id, and stores it once', async () => {
    const user = uniqueId('u');
    const tasks = service();
    const first = await tasks.create(user, { title: 'from workflow' }, log, 'wf-123-task');
    const retried = await tasks.create(user, { title: 'from workflow' }, log, 'wf-123-task');
    expect(first.created).toBe(true);
    expect(retried).toEqual({ task: first.task, created: false });
    expect((await tasks.list(user, log)).tasks).toHaveLength(1);
  });

  it('refuses a task that would make the list document too large, with 400 and no change', async () => {
    const user = uniqueId('u');
    const tasks = service();
    const description = '€'.repeat(2000); // 6 KB of UTF-8
    let created = 0;
    let refusal: unknown;
    while (refusal === undefined && created < MAX_TASKS_PER_USER) {
      try {
        await tasks.create(user, { title: `task ${created}`, description }, log);
        created += 1;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).details?.[0]?.message).toMatch(/task list is full/);
    expect(created).toBeGreaterThan(100);
    const full = (await tasks.list(user, log)).tasks;
    expect(full).toHaveLength(created);
    // A full list can always shrink.
    const [first, second] = full;
    await tasks.remove(user, first?.id ?? '', log);
    await tasks.update(user, second?.id ?? '', { description: 'short' }, log);
    expect((await tasks.list(user, log)).tasks).toHaveLength(created - 1);
  }, 60_000);
});
