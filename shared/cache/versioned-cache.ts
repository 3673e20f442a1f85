import { z } from 'zod';
import { Conflict, Unavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { type RetryBudget, updateWithRetry } from '../state/compare-and-set.js';
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
  /** The entry's own expiry is judged on this clock (the store keeps the key a grace longer). */
  now?: () => number;
}

/** The store keeps an entry this much longer than its own `expiresAt`, so no key vanishes mid-write. */
export const CACHE_GRACE_SECONDS = 60;

/**
 * Offers that conflict are settled fast (a newer revision ends them at once), so they may retry
 * more and sooner than a user-facing write: giving up would leave read-your-writes to the TTL.
 */
const OFFER_BUDGET: RetryBudget = { maxRetries: 60, initialDelayMs: 1, maxDelayMs: 40 };

/**
 * Cache-aside that is safe against the stale-set race. Every entry carries the revision of the
 * durable document it was copied from, and every write is a compare-and-set that only moves the
 * revision forward. A reader that read the durable store before a mutation therefore cannot put
 * the old copy back after the mutation wrote the new one, whatever the interleaving; and because
 * mutations write their result through (instead of deleting the entry), a GET after a mutation
 * has responded sees at least that mutation's revision.
 *
 * An entry's expiry is its own `expiresAt`; the store keeps the key CACHE_GRACE_SECONDS longer.
 * Otherwise Redis could drop the key between a writer's read and its write and then accept the
 * writer's old ETag on a recreated key (Redis restarts ETags at "1"), letting an old copy in.
 */
export function createVersionedCache<S extends z.ZodType>(options: VersionedCacheOptions<S>): VersionedCache<z.infer<S>> {
  const entrySchema = z.object({ v: z.literal(1), revision: z.number().int().min(0), expiresAt: z.iso.datetime(), value: z.unknown() });
  const { store, key, ttlSeconds } = options;
  const now = options.now ?? Date.now;

  /** The entry's revision, value and whether it has expired; null when it does not parse. */
  const readEntry = (stored: unknown): { revision: number; value: z.infer<S>; expired: boolean } | null => {
    const entry = entrySchema.safeParse(stored);
    if (!entry.success) return null;
    const value = options.schema.safeParse(entry.data.value);
    if (!value.success) return null;
    return { revision: entry.data.revision, value: value.data, expired: Date.parse(entry.data.expiresAt) <= now() };
  };

  /** Replace only with a newer revision, or refresh an expired entry with the same one: never go back. */
  const replaces = (stored: unknown, revision: number): boolean => {
    const entry = readEntry(stored);
    return entry === null || revision > entry.revision || (revision === entry.revision && entry.expired);
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
      if (cached === null || cached.expired) {
        log.debug({ cache: store.name }, 'cache entry expired or unreadable, treating it as a miss');
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
          ttlSeconds: ttlSeconds + CACHE_GRACE_SECONDS,
          budget: options.budget ?? OFFER_BUDGET,
          decide: (current) =>
            current !== null && !replaces(current, revision)
              ? { result: 'kept' as const }
              : {
                  write: { v: 1, revision, expiresAt: new Date(now() + ttlSeconds * 1000).toISOString(), value },
                  result: 'written' as const,
                },
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
