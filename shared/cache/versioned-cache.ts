import { z } from 'zod';
import { Conflict, Unavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { DEFAULT_RETRY_BUDGET, updateWithRetry, type RetryBudget } from '../state/compare-and-set.js';
import type { StateStore } from '../state/port.js';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

export type CacheLookup<T> = { status: 'HIT'; value: T } | { status: 'MISS' } | { status: 'BYPASS' };

export interface VersionedCache<T> {
  /** HIT with the cached value, MISS, or BYPASS when the cache store cannot be read. */
  get(id: string, log: Logger): Promise<CacheLookup<T>>;
  /**
   * Offers `value` as the state at durable `revision`. It replaces the cached entry only when that
   * holds an older revision, so the cache never moves backwards. Best effort: a cache outage is
   * logged, never thrown.
   */
  offer(id: string, value: T, revision: number, log: Logger): Promise<void>;
}

export interface VersionedCacheOptions<S extends z.ZodType> {
  store: StateStore;
  key: (id: string) => string;
  /** The cached value's schema. */
  schema: S;
  ttlSeconds: number;
  budget?: RetryBudget;
}

/**
 * Cache-aside that is safe against the stale-set race. Every entry carries the revision of the
 * durable document it was copied from, and every write is a compare-and-set that only moves the
 * revision forward. A reader that read the durable store before a mutation therefore cannot put
 * the old copy back after the mutation wrote the new one, whatever the interleaving; and because
 * mutations write their result through (instead of deleting the entry), a GET after a mutation
 * has responded sees at least that mutation's revision.
 *
 * Known limit: Redis restarts a key's ETags at "1" when the key expires and is created again, so
 * an entry that expires in the milliseconds between a writer's read and its write could, in
 * theory, accept that writer's older copy; the TTL then bounds the staleness.
 */
export function createVersionedCache<S extends z.ZodType>(options: VersionedCacheOptions<S>): VersionedCache<z.infer<S>> {
  const entrySchema = z.object({ v: z.literal(1), revision: z.number().int().min(0), value: z.unknown() });
  const { store, key, ttlSeconds } = options;

  /** The entry's revision and value, or null when it does not parse (and so may be replaced). */
  const readEntry = (stored: unknown): { revision: number; value: z.infer<S> } | null => {
    const entry = entrySchema.safeParse(stored);
    if (!entry.success) return null;
    const value = options.schema.safeParse(entry.data.value);
    return value.success ? { revision: entry.data.revision, value: value.data } : null;
  };

  return {
    async get(id, log) {
      let entry: Awaited<ReturnType<StateStore['get']>>;
      try {
        entry = await store.get(key(id));
      } catch (error) {
        if (!(error instanceof Unavailable)) throw error;
        log.warn({ err: error, cache: store.name }, 'cache unavailable, bypassing');
        return { status: 'BYPASS' };
      }
      if (entry === null) return { status: 'MISS' };
      const cached = readEntry(entry.value);
      if (cached === null) {
        log.error({ cache: store.name }, 'cache entry does not parse, treating it as a miss');
        return { status: 'MISS' };
      }
      return { status: 'HIT', value: cached.value };
    },

    async offer(id, value, revision, log) {
      try {
        const outcome = await updateWithRetry({
          store,
          key: key(id),
          schema: z.unknown(),
          ttlSeconds,
          budget: options.budget ?? DEFAULT_RETRY_BUDGET,
          decide: (current) =>
            current !== null && (readEntry(current)?.revision ?? -1) >= revision
              ? { result: 'kept' as const }
              : { write: { v: 1, revision, value }, result: 'written' as const },
        });
        log.debug({ cache: store.name, revision, outcome: outcome.result, attempts: outcome.attempts }, 'cache offered');
      } catch (error) {
        if (!(error instanceof Unavailable || error instanceof Conflict)) throw error;
        log.warn({ err: error, cache: store.name, revision }, 'cache write failed; the TTL bounds any staleness');
      }
    },
  };
}

/**
 * Runs one load per key at a time: concurrent callers for the same key share the first caller's
 * promise (so concurrent misses in one process make one durable read).
 */
export function singleFlight<T>(): (id: string, load: () => Promise<T>) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (id, load) => {
    const running = inFlight.get(id);
    if (running) return running;
    const started = load().finally(() => inFlight.delete(id));
    inFlight.set(id, started);
    return started;
  };
}
