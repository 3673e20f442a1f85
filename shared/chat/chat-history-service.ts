import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
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

/**
 * The stored key outlives the history's own `expiresAt` by this long. The document's expiry is the
 * authority; the store keeps the key a little longer so it cannot vanish between an append's read
 * and its write (Redis would then accept the old ETag on a recreated key, or recreate an expired
 * window from the stale read).
 */
export const HISTORY_GRACE_SECONDS = 300;

/** Well under daprd's 4 MB request limit, whatever CHAT_HISTORY_MAX_MESSAGES says. */
export const MAX_HISTORY_BYTES = 3 * 1024 * 1024;

/** The newest `maxMessages` messages that also fit in MAX_HISTORY_BYTES, oldest first. */
export function fitWindow(messages: readonly ChatMessage[], maxMessages: number): ChatMessage[] {
  const window = messages.slice(-maxMessages);
  let bytes = window.reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)) + 1, 0);
  let start = 0;
  while (bytes > MAX_HISTORY_BYTES && start < window.length - 1) {
    bytes -= Buffer.byteLength(JSON.stringify(window[start])) + 1;
    start += 1;
  }
  return window.slice(start);
}

/** The messages of a stored window that has not expired. */
function liveMessages(document: HistoryDocument | null, now: number): ChatMessage[] {
  if (document === null) return [];
  if (document.expiresAt !== undefined && Date.parse(document.expiresAt) <= now) return [];
  return document.messages;
}

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
        ttlSeconds: settings.ttlSeconds + HISTORY_GRACE_SECONDS,
        budget: settings.retry ?? DEFAULT_RETRY_BUDGET,
        decide: (current) => {
          const now = clock.now();
          const messages = liveMessages(current, now);
          const existing = messages.find((m) => m.id === id);
          if (existing) return { result: { message: existing, count: messages.length, created: false } };
          const message: ChatMessage = {
            id,
            role: input.role,
            content: input.content,
            timestamp: new Date(now).toISOString(),
            ...(input.metadata ? { metadata: input.metadata } : {}),
          };
          const window = fitWindow([...messages, message], settings.maxMessages);
          const next: HistoryDocument = { v: 1, messages: window, expiresAt: new Date(now + settings.ttlSeconds * 1000).toISOString() };
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
      const messages = liveMessages(entry === null ? null : parseStored(historyDocumentSchema, key, entry.value), clock.now());
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
        ttlSeconds: settings.ttlSeconds + HISTORY_GRACE_SECONDS,
        budget: settings.retry ?? DEFAULT_RETRY_BUDGET,
        decide: (current) => {
          const now = clock.now();
          if (liveMessages(current, now).length === 0) return { result: undefined };
          const empty: HistoryDocument = { v: 1, messages: [], expiresAt: new Date(now + settings.ttlSeconds * 1000).toISOString() };
          return { write: empty, result: undefined };
        },
      });
    },
  };
}
