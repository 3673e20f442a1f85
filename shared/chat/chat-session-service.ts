import type { Clock } from '../clock.js';
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
  return {
    async put(userId, session) {
      const expiresAt = new Date(clock.now() + ttlSeconds * 1000).toISOString();
      await store.save(chatSessionKey(userId), { v: 1, session, expiresAt }, { mode: 'overwrite', ttlSeconds });
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
      await store.delete(chatSessionKey(userId));
    },
  };
}
