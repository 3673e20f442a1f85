import { randomUUID } from 'node:crypto';
import type { Clock } from '../deps.js';
import { UnknownCursor } from '../errors.js';
import type { Logger } from '../logger.js';
import { DEFAULT_RETRY_BUDGET, parseStored, updateWithRetry, type RetryBudget } from '../state/compare-and-set.js';
import { keyBuilder } from '../state/keys.js';
import type { StateStore } from '../state/port.js';
import {
  historyDocumentSchema,
  type AppendMessageInput,
  type ChatMessage,
  type HistoryDocument,
  type HistoryQuery,
} from './chat-schemas.js';

export const historyKey = keyBuilder('chat', 'history');
const emptyWindow: HistoryDocument = { v: 1, messages: [] };

export interface ChatHistorySettings {
  maxMessages: number;
  ttlSeconds: number;
  retry?: RetryBudget;
}

export interface AppendResult {
  message: ChatMessage;
  /** Messages in the window after the append. */
  count: number;
  /** False when the message id was already in the window (an idempotent retry). */
  created: boolean;
}

export interface HistoryPage {
  messages: ChatMessage[];
  hasMore: boolean;
  nextBefore?: string;
}

export interface ChatHistoryService {
  append(userId: string, input: AppendMessageInput, log: Logger): Promise<AppendResult>;
  list(userId: string, query: HistoryQuery): Promise<HistoryPage>;
  clear(userId: string): Promise<void>;
}

export interface ChatHistoryDeps {
  store: StateStore;
  clock: Clock;
  settings: ChatHistorySettings;
  newId?: () => string;
}

/**
 * A user's chat history is one document holding the newest `maxMessages` messages, so an append
 * is a single compare-and-set write (message, trim and TTL together): no append is lost to a
 * concurrent one, from any number of instances, and the TTL restarts with every append.
 */
export function createChatHistoryService({ store, clock, settings, newId = randomUUID }: ChatHistoryDeps): ChatHistoryService {
  return {
    async append(userId, input, log) {
      const key = historyKey(userId);
      const started = performance.now();
      const id = input.id ?? newId();
      const outcome = await updateWithRetry({
        store,
        key,
        schema: historyDocumentSchema,
        ttlSeconds: settings.ttlSeconds,
        budget: settings.retry ?? DEFAULT_RETRY_BUDGET,
        decide: (current) => {
          const messages = current?.messages ?? [];
          const existing = messages.find((m) => m.id === id);
          if (existing) return { result: { message: existing, count: messages.length, created: false } };
          const message: ChatMessage = {
            id,
            role: input.role,
            content: input.content,
            timestamp: new Date(clock.now()).toISOString(),
            ...(input.metadata ? { metadata: input.metadata } : {}),
          };
          const window = [...messages, message].slice(-settings.maxMessages);
          const next: HistoryDocument = { v: 1, messages: window };
          return { write: next, result: { message, count: window.length, created: true } };
        },
      });
      log.info(
        {
          attempts: outcome.attempts,
          conflicts: outcome.attempts - 1,
          windowSize: outcome.result.count,
          created: outcome.result.created,
          latencyMs: Math.round(performance.now() - started),
        },
        'chat message appended',
      );
      return outcome.result;
    },

    async list(userId, { limit, before }) {
      const key = historyKey(userId);
      const entry = await store.get(key);
      const messages = entry === null ? [] : parseStored(historyDocumentSchema, key, entry.value).messages;
      let end = messages.length;
      if (before !== undefined) {
        end = messages.findIndex((m) => m.id === before);
        if (end === -1) throw new UnknownCursor('`before` names no message in this history.');
      }
      const start = Math.max(0, end - limit);
      const page = messages.slice(start, end);
      const first = page[0];
      return start > 0 && first ? { messages: page, hasMore: true, nextBefore: first.id } : { messages: page, hasMore: false };
    },

    async clear(userId) {
      // An empty window written with compare-and-set, not a delete: on Redis an append that read
      // the old window could otherwise recreate it after the delete (docs in state/port.ts).
      await updateWithRetry({
        store,
        key: historyKey(userId),
        schema: historyDocumentSchema,
        ttlSeconds: settings.ttlSeconds,
        budget: settings.retry ?? DEFAULT_RETRY_BUDGET,
        decide: (current) => (current === null || current.messages.length === 0 ? { result: undefined } : { write: emptyWindow, result: undefined }),
      });
    },
  };
}
