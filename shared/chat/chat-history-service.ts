import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { UnknownCursor, Unavailable, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  DEFAULT_RETRY_BUDGET,
  parseStored,
  type RetryBudget,
  type UpdateOutcome,
  updateWithRetry,
} from '../state/compare-and-set.js';
import { keyBuilder } from '../state/keys.js';
import type { StateEntry, StateStore } from '../state/port.js';
import {
  CHAT_HISTORY_MAX_BYTES,
  CHAT_MESSAGE_MAX_BYTES,
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

/** Room left in CHAT_HISTORY_MAX_BYTES for the document around its messages (v, expiresAt, bytes: about 70 bytes). */
const ENVELOPE_BYTES = 256;
/** The most the serialised `messages` array may take, so that the whole document fits CHAT_HISTORY_MAX_BYTES. */
export const WINDOW_MAX_BYTES = CHAT_HISTORY_MAX_BYTES - ENVELOPE_BYTES;

/** A message's size as stored: UTF-8 bytes of its JSON. */
export function messageBytes(message: ChatMessage): number {
  return Buffer.byteLength(JSON.stringify(message));
}

/** A window and the size of its `messages` array as JSON. */
interface Window {
  messages: ChatMessage[];
  bytes: number;
}

const EMPTY_WINDOW: Window = { messages: [], bytes: 2 };

/** `[` + the messages joined by commas + `]`. */
const arrayBytes = (count: number, sumOfMessages: number) => (count === 0 ? 2 : sumOfMessages + count + 1);

/**
 * Adds `added` (each with its measured size) to `window`, then drops the oldest messages until at
 * most `maxMessages` remain and the array fits WINDOW_MAX_BYTES; the newest message always stays.
 * Sizes come from the stored total and the new messages: only a dropped message is measured, so an
 * append never re-serialises the window it keeps.
 */
function extendWindow(window: Window, added: ReadonlyArray<{ message: ChatMessage; bytes: number }>, maxMessages: number): Window {
  const messages = [...window.messages, ...added.map((a) => a.message)];
  const kept = window.messages.length;
  let sum = (kept === 0 ? 0 : window.bytes - kept - 1) + added.reduce((total, a) => total + a.bytes, 0);
  let start = 0;
  const size = (index: number) => (index < kept ? messageBytes(messages[index] as ChatMessage) : (added[index - kept]?.bytes ?? 0));
  while (messages.length - start > 1 && (messages.length - start > maxMessages || arrayBytes(messages.length - start, sum) > WINDOW_MAX_BYTES)) {
    sum -= size(start);
    start += 1;
  }
  const newest = messages.slice(start);
  return { messages: newest, bytes: arrayBytes(newest.length, sum) };
}

/** The newest `maxMessages` messages that also fit in WINDOW_MAX_BYTES, oldest first. */
export function fitWindow(messages: readonly ChatMessage[], maxMessages: number): ChatMessage[] {
  return extendWindow(EMPTY_WINDOW, messages.map((message) => ({ message, bytes: messageBytes(message) })), maxMessages).messages;
}

/** The window of a stored history that has not expired (documents written before `bytes` existed are measured once). */
function liveWindow(document: HistoryDocument | null, now: number): Window {
  if (document === null) return EMPTY_WINDOW;
  if (document.expiresAt !== undefined && Date.parse(document.expiresAt) <= now) return EMPTY_WINDOW;
  return { messages: document.messages, bytes: document.bytes ?? Buffer.byteLength(JSON.stringify(document.messages)) };
}

/** `store`, except that its first read of `key` answers `entry`, which the caller has just read. */
function withFirstRead(store: StateStore, key: string, entry: StateEntry | null): StateStore {
  let pending = true;
  return {
    name: store.name,
    get(k) {
      if (pending && k === key) {
        pending = false;
        return Promise.resolve(entry);
      }
      return store.get(k);
    },
    save: (k, value, options) => store.save(k, value, options),
    saveBulk: (items) => store.saveBulk(items),
    delete: (k, options) => store.delete(k, options),
    getBulk: (keys) => store.getBulk(keys),
    transaction: (operations) => store.transaction(operations),
    ping: () => store.ping(),
  };
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

export interface AppendManyResult {
  /** In the order given; `created` is false for an id already in the window. */
  messages: Array<{ message: ChatMessage; created: boolean }>;
  count: number;
}

export interface AppendOptions {
  /**
   * What the caller has just read at `historyKey(userId)` in this service's store (`null`: absent).
   * The first attempt decides on it instead of reading again; a conflict re-reads as usual.
   */
  read?: StateEntry | null;
}

export interface HistoryPage {
  messages: ChatMessage[];
  hasMore: boolean;
  nextBefore?: string;
}

export interface ChatHistoryService {
  /** The store the history lives in, for callers that read its key together with their own. */
  readonly store: StateStore;
  append(userId: string, input: AppendMessageInput, log: Logger): Promise<AppendResult>;
  /** Appends several messages (e.g. a question and its answer) with one compare-and-set write. */
  appendMany(userId: string, inputs: readonly AppendMessageInput[], log: Logger, options?: AppendOptions): Promise<AppendManyResult>;
  /** Whether a message with this id is in the live window (`read`: as in AppendOptions, no I/O then). */
  contains(userId: string, messageId: string, options?: AppendOptions): Promise<boolean>;
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
 * A user's chat history is one document holding the newest `maxMessages` messages that fit
 * CHAT_HISTORY_MAX_BYTES, so an append is a single compare-and-set write (messages, trim and TTL
 * together): no append is lost to a concurrent one, from any number of instances, and the TTL
 * restarts with every append. The document carries the size of its window, so an append measures
 * only what it adds (and what it drops); the store adapter serialises the document once per attempt.
 */
export function createChatHistoryService({ store, clock, settings, newId = randomUUID }: ChatHistoryDeps): ChatHistoryService {
  const ttlSeconds = settings.ttlSeconds + HISTORY_GRACE_SECONDS;
  const budget = settings.retry ?? DEFAULT_RETRY_BUDGET;

  async function readWindow(key: string, read: StateEntry | null | undefined): Promise<Window> {
    const entry = read === undefined ? await store.get(key) : read;
    return liveWindow(entry === null ? null : parseStored(historyDocumentSchema, key, entry.value), clock.now());
  }

  async function appendMany(userId: string, inputs: readonly AppendMessageInput[], log: Logger, options: AppendOptions = {}) {
    const key = historyKey(userId);
    const started = performance.now();
    // Measured once: a timestamp always has the same length, so the size holds on every attempt.
    const at = new Date(clock.now()).toISOString();
    const drafts = inputs.map((input, index) => {
      const message: ChatMessage = {
        id: input.id ?? newId(),
        role: input.role,
        content: input.content,
        timestamp: at,
        ...(input.metadata ? { metadata: input.metadata } : {}),
      };
      const bytes = messageBytes(message);
      if (bytes > CHAT_MESSAGE_MAX_BYTES) {
        throw new ValidationError([
          {
            path: inputs.length === 1 ? 'content' : `${index}.content`,
            message: `The message takes ${bytes} bytes as JSON; at most ${CHAT_MESSAGE_MAX_BYTES / 1024} KiB are stored.`,
          },
        ]);
      }
      return { message, bytes };
    });
    let outcome: UpdateOutcome<AppendManyResult>;
    try {
      outcome = await updateWithRetry({
        store: options.read === undefined ? store : withFirstRead(store, key, options.read),
        key,
        schema: historyDocumentSchema,
        ttlSeconds,
        budget,
        decide: (current) => {
          const now = clock.now();
          const window = liveWindow(current, now);
          const timestamp = new Date(now).toISOString();
          const messages: AppendManyResult['messages'] = [];
          const added: Array<{ message: ChatMessage; bytes: number }> = [];
          for (const draft of drafts) {
            const existing = window.messages.find((m) => m.id === draft.message.id);
            if (existing) {
              messages.push({ message: existing, created: false });
              continue;
            }
            const message = { ...draft.message, timestamp };
            added.push({ message, bytes: draft.bytes });
            messages.push({ message, created: true });
          }
          if (added.length === 0) return { result: { messages, count: window.messages.length } };
          const next = extendWindow(window, added, settings.maxMessages);
          const expiresAt = new Date(now + settings.ttlSeconds * 1000).toISOString();
          const document: HistoryDocument = { v: 1, messages: next.messages, expiresAt, bytes: next.bytes };
          return { write: document, result: { messages, count: next.messages.length } };
        },
      });
    } catch (error) {
      if (!(error instanceof Unavailable && error.outcomeUnknown)) throw error;
      return resolveUnknownAppend(key, drafts, error, log);
    }
    log.info(
      {
        attempts: outcome.attempts,
        conflicts: outcome.attempts - 1,
        windowSize: outcome.result.count,
        created: outcome.result.messages.filter((m) => m.created).length,
        latencyMs: Math.round(performance.now() - started),
      },
      'chat message appended',
    );
    return outcome.result;
  }

  /**
   * The save was sent but not answered, so it may have landed: read the window back. If every id we
   * wrote is there, the append happened; otherwise (or if the store cannot be read) the outcome stays
   * unknown and the 503 says so.
   */
  async function resolveUnknownAppend(key: string, drafts: ReadonlyArray<{ message: ChatMessage }>, error: Unavailable, log: Logger) {
    let window: Window;
    try {
      window = await readWindow(key, undefined);
    } catch {
      throw error;
    }
    const found = drafts.map((d) => window.messages.find((m) => m.id === d.message.id));
    if (found.some((m) => m === undefined)) throw error;
    log.warn({ err: error }, 'chat append outcome was unknown; read back: applied');
    return { messages: found.map((message) => ({ message: message as ChatMessage, created: true })), count: window.messages.length };
  }

  return {
    store,

    async append(userId, input, log) {
      const { messages, count } = await appendMany(userId, [input], log);
      const [first] = messages;
      if (!first) throw new Error('appendMany answered no message for one input');
      return { ...first, count };
    },

    appendMany,

    async contains(userId, messageId, options = {}) {
      const window = await readWindow(historyKey(userId), options.read);
      return window.messages.some((m) => m.id === messageId);
    },

    async list(userId, { limit, before }) {
      const { messages } = await readWindow(historyKey(userId), undefined);
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
      const key = historyKey(userId);
      try {
        await updateWithRetry({
          store,
          key,
          schema: historyDocumentSchema,
          ttlSeconds,
          budget,
          decide: (current) => {
            const now = clock.now();
            if (liveWindow(current, now).messages.length === 0) return { result: undefined };
            const empty: HistoryDocument = { v: 1, messages: [], expiresAt: new Date(now + settings.ttlSeconds * 1000).toISOString(), bytes: 2 };
            return { write: empty, result: undefined };
          },
        });
      } catch (error) {
        if (!(error instanceof Unavailable && error.outcomeUnknown)) throw error;
        // Cleared if the window now reads empty (an append since then would only make it unknown).
        const window = await readWindow(key, undefined).catch(() => {
          throw error;
        });
        if (window.messages.length > 0) throw error;
      }
    },
  };
}
