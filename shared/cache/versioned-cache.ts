import { z } from 'zod';
import { Conflict, Unavailable } from '../errors.js';
import type { Log } from '../logger.js';
import { type RetryBudget, updateWithRetry } from '../state/compare-and-set.js';
import type { StateEntry, StateStore } from '../state/port.js';
import { inBackground } from './background.js';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/** What a lookup found in the store, handed back to `offer` so filling a miss needs no second read. */
export interface SeenEntry {
  entry: StateEntry | null;
}

export type CacheLookup<T> = { status: 'HIT'; value: T } | { status: 'MISS'; seen: SeenEntry } | { status: 'BYPASS' };

export interface VersionedCache<T> {
  /** HIT with the cached value, MISS, or BYPASS when the cache store cannot be read. */
  get(id: string, log: Log): Promise<CacheLookup<T>>;
  /**
   * Offers `value` as the state at durable `revision`. It replaces the cached entry only when that
   * holds an older revision, so the cache never moves backwards. `seen` (from a MISS) saves the
   * read. Best effort: a failure is logged and queued for repair (see `reload`), never thrown.
   */
  offer(id: string, value: T, revision: number, log: Log, seen?: SeenEntry): Promise<void>;
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
  /**
   * Reads the durable state, for repairing an entry whose write-through failed (the cache store
   * was down): without it, such an entry stays stale until its TTL.
   */
  reload?: (id: string) => Promise<{ value: z.infer<S>; revision: number }>;
  /** How often failed write-throughs are retried while the cache store is down (default 1000 ms). */
  repairIntervalMs?: number;
}

/** The store keeps an entry this much longer than its own `expiresAt`, so no key vanishes mid-write. */
export const CACHE_GRACE_SECONDS = 60;
/** At most this many entries wait for repair per cache; past it the TTL bounds staleness. */
const MAX_PENDING_REPAIRS = 10_000;

/**
 * Offers that conflict are settled fast (a newer revision ends them at once), so they may retry
 * more and sooner than a user-facing write: giving up would leave read-your-writes to the TTL.
 */
const OFFER_BUDGET: RetryBudget = { maxRetries: 60, initialDelayMs: 1, maxDelayMs: 40 };

/** A write-through that failed: the cache may hold a revision older than `revision` until repaired. */
interface PendingRepair {
  revision: number;
  /** After this (ms), any entry written before the failure has expired on its own. */
  until: number;
  log: Log;
}

/**
 * Cache-aside that is safe against the stale-set race. Every entry carries the revision of the
 * durable document it was copied from, and every write is a compare-and-set that only moves the
 * revision forward. A reader that read the durable store before a mutation therefore cannot put
 * the old copy back after the mutation wrote the new one, whatever the interleaving; and because
 * mutations write their result through (instead of deleting the entry), a GET after a mutation
 * has responded sees at least that mutation's revision.
 *
 * When a write-through fails (the cache store is down or paused), the entry may keep an older
 * revision after the store comes back, and nothing else would correct it before its TTL. So the
 * failed offer is remembered: lookups of that id in this instance miss (and so re-read the durable
 * store) until the cache holds the newer revision, and a timer retries the repair every
 * `repairIntervalMs` so lookups from other instances see it soon after the store is back.
 *
 * An entry's expiry is its own `expiresAt`; the store keeps the key CACHE_GRACE_SECONDS longer.
 * Otherwise Redis could drop the key between a writer's read and its write and then accept the
 * writer's old ETag on a recreated key (Redis restarts ETags at "1"), letting an old copy in.
 */
export function createVersionedCache<S extends z.ZodType>(options: VersionedCacheOptions<S>): VersionedCache<z.infer<S>> {
  const entrySchema = z.object({ v: z.literal(1), revision: z.number().int().min(0), expiresAt: z.iso.datetime(), value: z.unknown() });
  const { store, key, ttlSeconds, reload } = options;
  const now = options.now ?? Date.now;
  const pending = new Map<string, PendingRepair>();
  let repairTimer: NodeJS.Timeout | undefined;

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

  const entryFor = (value: z.infer<S>, revision: number) => ({
    v: 1,
    revision,
    expiresAt: new Date(now() + ttlSeconds * 1000).toISOString(),
    value,
  });
  const ttl = ttlSeconds + CACHE_GRACE_SECONDS;

  /** Writes unless the cache already holds this revision or newer; answers the revision it holds after. */
  async function write(id: string, value: z.infer<S>, revision: number, seen?: SeenEntry): Promise<number> {
    if (seen) {
      // First attempt on what the lookup saw: no second read. A conflict falls back to read-and-retry.
      const current = seen.entry?.value ?? null;
      if (current !== null && !replaces(current, revision)) return readEntry(current)?.revision ?? revision;
      try {
        await store.save(
          key(id),
          entryFor(value, revision),
          seen.entry === null
            ? { mode: 'create-only', ttlSeconds: ttl }
            : { mode: 'compare-and-set', etag: seen.entry.etag, ttlSeconds: ttl },
        );
        return revision;
      } catch (error) {
        if (!(error instanceof Conflict)) throw error;
      }
    }
    const outcome = await updateWithRetry({
      store,
      key: key(id),
      schema: z.unknown(),
      ttlSeconds: ttl,
      budget: options.budget ?? OFFER_BUDGET,
      decide: (current) =>
        current !== null && !replaces(current, revision)
          ? { result: readEntry(current)?.revision ?? revision }
          : { write: entryFor(value, revision), result: revision },
    });
    return outcome.result;
  }

  function remember(id: string, revision: number, log: Log): void {
    const known = pending.get(id);
    if (!reload || (known && known.revision >= revision)) return;
    if (!known && pending.size >= MAX_PENDING_REPAIRS) {
      log.warn({ cache: store.name }, 'too many cache entries waiting for repair; the TTL bounds this one');
      return;
    }
    pending.set(id, { revision, until: now() + ttlSeconds * 1000, log });
    scheduleRepairs();
  }

  /** Clears a pending repair once the cache holds its revision (or newer). */
  function settled(id: string, cachedRevision: number): void {
    const known = pending.get(id);
    if (known && cachedRevision >= known.revision) pending.delete(id);
  }

  function scheduleRepairs(): void {
    if (repairTimer !== undefined || pending.size === 0) return;
    // In the background: a repair outlives the request whose write-through failed (background.ts).
    repairTimer = inBackground(() => {
      void repairAll().finally(() => {
        repairTimer = undefined;
        scheduleRepairs();
      });
    }, options.repairIntervalMs ?? 1000);
  }

  async function repairAll(): Promise<void> {
    if (!reload) return;
    for (const [id, repair] of [...pending]) {
      if (repair.until <= now()) {
        pending.delete(id); // every entry older than the failed write has expired by now
        continue;
      }
      try {
        const entry = await store.get(key(id));
        const cached = entry === null ? null : readEntry(entry.value);
        if (cached === null || cached.expired) {
          pending.delete(id); // nothing stale to serve: lookups miss and read the durable store anyway
          continue;
        }
        if (cached.revision >= repair.revision) {
          settled(id, cached.revision);
          continue;
        }
        const loaded = await reload(id);
        settled(id, await write(id, loaded.value, loaded.revision, { entry }));
        repair.log.info({ cache: store.name, revision: loaded.revision }, 'cache entry repaired after a failed write-through');
      } catch (error) {
        repair.log.debug({ err: error, cache: store.name }, 'cache repair failed; retrying');
        if (error instanceof Unavailable) return; // the store is still down: try again next round
      }
    }
  }

  return {
    async get(id, log) {
      let entry: StateEntry | null;
      try {
        entry = await store.get(key(id));
      } catch (error) {
        if (!(error instanceof Unavailable)) throw error;
        log.warn({ err: error, cache: store.name }, 'cache unavailable, bypassing');
        return { status: 'BYPASS' };
      }
      if (entry === null) return { status: 'MISS', seen: { entry } };
      const cached = readEntry(entry.value);
      if (cached === null || cached.expired) {
        log.debug({ cache: store.name }, 'cache entry expired or unreadable, treating it as a miss');
        return { status: 'MISS', seen: { entry } };
      }
      const repair = pending.get(id);
      if (repair && cached.revision < repair.revision) {
        log.debug(
          { cache: store.name, cached: cached.revision, durable: repair.revision },
          'cache entry older than a failed write-through: miss',
        );
        return { status: 'MISS', seen: { entry } };
      }
      settled(id, cached.revision);
      return { status: 'HIT', value: cached.value };
    },

    async offer(id, value, revision, log, seen) {
      try {
        const cachedRevision = await write(id, value, revision, seen);
        settled(id, cachedRevision);
        log.debug({ cache: store.name, revision, cachedRevision }, 'cache offered');
      } catch (error) {
        if (!(error instanceof Unavailable || error instanceof Conflict)) throw error;
        log.warn({ err: error, cache: store.name, revision }, 'cache write failed; repairing it once the cache store is back');
        remember(id, revision, log);
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
