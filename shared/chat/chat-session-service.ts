import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../clock.js';
import { Unavailable } from '../errors.js';
import { parseStored } from '../state/compare-and-set.js';
import { keyBuilder } from '../state/keys.js';
import type { StateStore } from '../state/port.js';
import { sessionDocumentSchema } from './chat-schemas.js';

export const chatSessionKey = keyBuilder('chat', 'session');

export interface ChatSession {
  session: Record<string, unknown>;
  expiresAt: string;
}

export interface ChatSessionService {
  put(userId: string, session: Record<string, unknown>): Promise<ChatSession>;
  get(userId: string): Promise<ChatSession | null>;
  delete(userId: string): Promise<void>;
}

/**
 * The chat session is replaced whole on every PUT (last write wins), with its TTL restarted. The
 * expiry is stored beside it because Redis does not report a key's expiry through Dapr.
 */
export function createChatSessionService(deps: { store: StateStore; clock: Clock; ttlSeconds: number }): ChatSessionService {
  const { store, clock, ttlSeconds } = deps;

  /**
   * Awaits a write; one whose answer was lost (timeout, reset) is read back, and counts as done when
   * `landed` says the stored value is what was written. Otherwise the 503 says the outcome is unknown.
   */
  async function settled(write: Promise<void>, key: string, landed: (stored: unknown) => boolean): Promise<void> {
    try {
      await write;
    } catch (error) {
      if (!(error instanceof Unavailable && error.outcomeUnknown)) throw error;
      const entry = await store.get(key).catch(() => {
        throw error;
      });
      if (!landed(entry === null ? null : entry.value)) throw error;
    }
  }
  return {
    async put(userId, session) {
      const key = chatSessionKey(userId);
      const expiresAt = new Date(clock.now() + ttlSeconds * 1000).toISOString();
      const written = { v: 1, session, expiresAt };
      await settled(store.save(key, written, { mode: 'overwrite', ttlSeconds }), key, (stored) =>
        isDeepStrictEqual(stored, JSON.parse(JSON.stringify(written))),
      );
      return { session, expiresAt };
    },

    async get(userId) {
      const key = chatSessionKey(userId);
      const entry = await store.get(key);
      if (entry === null) return null;
      const { session, expiresAt } = parseStored(sessionDocumentSchema, key, entry.value);
      return { session, expiresAt };
    },

    async delete(userId) {
      const key = chatSessionKey(userId);
      await settled(store.delete(key), key, (stored) => stored === null);
    },
  };
}
