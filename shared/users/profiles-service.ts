import { type CacheStatus, createVersionedCache, singleFlight } from '../cache/versioned-cache.js';
import type { Clock } from '../clock.js';
import type { Log } from '../logger.js';
import { parseStored, updateWithRetry } from '../state/compare-and-set.js';
import { keyBuilder } from '../state/keys.js';
import type { StateStore } from '../state/port.js';
import { type Profile, profileDocumentSchema, profileSchema, type PutProfileInput } from './profile-schemas.js';

export const profileKey = keyBuilder('user', 'profile');
export const profileCacheKey = keyBuilder('cache', 'user');

export interface ProfilesService {
  /** The profile (null when there is none) and where it came from. */
  get(userId: string, log: Log): Promise<{ profile: Profile | null; cache: CacheStatus }>;
  put(userId: string, input: PutProfileInput, log: Log): Promise<Profile>;
}

export interface ProfilesDeps {
  durable: StateStore;
  cache: StateStore;
  clock: Clock;
  cacheTtlSeconds: number;
}

/** Profiles: the tasks pattern for one document per user (durable, compare-and-set, versioned cache). */
export function createProfilesService({ durable, cache: cacheStore, clock, cacheTtlSeconds }: ProfilesDeps): ProfilesService {
  async function readDurable(userId: string): Promise<{ profile: Profile | null; revision: number }> {
    const key = profileKey(userId);
    const entry = await durable.get(key);
    if (entry === null) return { profile: null, revision: 0 };
    const document = parseStored(profileDocumentSchema, key, entry.value);
    return { profile: document.profile, revision: document.revision };
  }

  // Absence is cached too, so unknown users do not reach the durable store on every read.
  const cache = createVersionedCache({
    store: cacheStore,
    key: profileCacheKey,
    schema: profileSchema.nullable(),
    ttlSeconds: cacheTtlSeconds,
    now: clock.now,
    reload: async (userId) => {
      const { profile, revision } = await readDurable(userId);
      return { value: profile, revision };
    },
  });
  const loadOnce = singleFlight<Profile | null>();

  return {
    async get(userId, log) {
      const cached = await cache.get(userId, log);
      if (cached.status === 'HIT') return { profile: cached.value, cache: 'HIT' };
      if (cached.status === 'BYPASS') return { profile: (await readDurable(userId)).profile, cache: 'BYPASS' };
      const { seen } = cached;
      const profile = await loadOnce(userId, async () => {
        const loaded = await readDurable(userId);
        await cache.offer(userId, loaded.profile, loaded.revision, log, seen);
        return loaded.profile;
      });
      return { profile, cache: 'MISS' };
    },

    async put(userId, input, log) {
      const outcome = await updateWithRetry({
        store: durable,
        key: profileKey(userId),
        schema: profileDocumentSchema,
        decide: (current) => {
          const now = new Date(clock.now()).toISOString();
          const profile: Profile = {
            userId,
            displayName: input.displayName,
            ...(input.email === undefined ? {} : { email: input.email }),
            ...(input.preferences === undefined ? {} : { preferences: input.preferences }),
            createdAt: current?.profile.createdAt ?? now,
            updatedAt: now,
          };
          const document = { v: 1 as const, revision: (current?.revision ?? 0) + 1, profile };
          return { write: document, result: document };
        },
      });
      await cache.offer(userId, outcome.result.profile, outcome.result.revision, log);
      log.info({ attempts: outcome.attempts, revision: outcome.result.revision }, 'profile saved');
      return outcome.result.profile;
    },
  };
}
