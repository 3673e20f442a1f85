import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { UnknownCursor, Unavailable, ValidationError } from '../errors.js';
import type { Log } from '../logger.js';
import { DEFAULT_RETRY_BUDGET, parseStored, type RetryBudget, type UpdateDecision, updateWithRetry } from '../state/compare-and-set.js';
import { currentDeadline, runWithDeadline } from '../state/deadline.js';
import { keyBuilder } from '../state/keys.js';
import type { StateEntry, StateStore } from '../state/port.js';
import {
  CHAT_MESSAGE_MAX_BYTES,
  historyDocumentSchema,
  type AppendMessageInput,
  type ChatMessage,
  type HistoryDocument,
  type HistoryQuery,
} from './chat-schemas.js';
import { type Added, appendToWindow, type Draft, liveWindow, messageBytes, type Window } from './history-window.js';

export { fitWindow, messageBytes, WINDOW_MAX_BYTES } from './history-window.js';

export const historyKey = keyBuilder('chat', 'history');

/**
 * The stored key outlives the history's own `expiresAt` by this long. The document's expiry is the
 * authority; the store keeps the key a little longer so it cannot vanish between an append's read
 * and its write (Redis would then accept the old ETag on a recreated key, or recreate an expired
 * window from the stale read).
 */
export const HISTORY_GRACE_SECONDS = 300;

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
  /**
   * `fallbackId` (e.g. derived from an Idempotency-Key) names a message sent without an id of its
   * own, so a re-run after an unknown outcome finds it instead of storing a copy.
   */
  append(userId: string, input: AppendMessageInput, log: Log, fallbackId?: string): Promise<AppendResult>;
  /** Appends several messages (e.g. a question and its answer) with one compare-and-set write. */
  appendMany(userId: string, inputs: readonly AppendMessageInput[], log: Log, options?: AppendOptions): Promise<AppendManyResult>;
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

interface Waiting {
  draft: Draft;
  log: Log;
  /** The waiting request's own time budget (undefined outside a request). */
  deadline: number | undefined;
  resolve: (added: Added) => void;
  reject: (error: unknown) => void;
}

/**
 * A user's chat history is one document holding the newest `maxMessages` messages that fit
 * CHAT_HISTORY_MAX_BYTES, so an append is a single compare-and-set write (messages, trim and TTL
 * together): no append is lost to a concurrent one, from any number of instances, and the TTL
 * restarts with every append. The document carries the size of its window, so an append measures
 * only what it adds (and what it drops); the store adapter serialises the document once per attempt.
 *
 * Appends for one user that arrive while one of theirs is being written in this instance wait and
 * then go together in the next write: a burst costs a few writes instead of one compare-and-set
 * race per message (each loser re-reading and re-sending the whole window). Each still answers its
 * own message and the count right after it, as if they had come one by one.
 */
export function createChatHistoryService({ store, clock, settings, newId = randomUUID }: ChatHistoryDeps): ChatHistoryService {
  const ttlSeconds = settings.ttlSeconds + HISTORY_GRACE_SECONDS;
  const budget = settings.retry ?? DEFAULT_RETRY_BUDGET;
  /** Per user with a write in progress here: the appends waiting for the next one. */
  const waiting = new Map<string, Waiting[]>();

  /** One compare-and-set update of the history at `key`, the first read optionally answered by `read`. */
  function updateHistory<R>(
    key: string,
    decide: (current: HistoryDocument | null) => UpdateDecision<HistoryDocument, R>,
    read?: StateEntry | null,
  ) {
    return updateWithRetry({
      store: read === undefined ? store : withFirstRead(store, key, read),
      key,
      schema: historyDocumentSchema,
      ttlSeconds,
      budget,
      decide,
    });
  }

  /** When a window written at `now` expires (the document's own expiry; the key outlives it). */
  const expiresAfter = (now: number) => new Date(now + settings.ttlSeconds * 1000).toISOString();

  async function readWindow(key: string, read: StateEntry | null | undefined): Promise<Window> {
    const entry = read === undefined ? await store.get(key) : read;
    return liveWindow(entry === null ? null : parseStored(historyDocumentSchema, key, entry.value), clock.now());
  }

  /** Builds and measures the messages before any store call; one over the limit is a 400. */
  function draftsOf(inputs: readonly AppendMessageInput[]): Draft[] {
    // A timestamp always has the same length, so the size holds when a later attempt restamps it.
    const at = new Date(clock.now()).toISOString();
    return inputs.map((input, index) => {
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
  }

  /** One compare-and-set write of `drafts` (re-read and re-decided on conflicts). */
  async function write(userId: string, drafts: readonly Draft[], log: Log, read?: StateEntry | null): Promise<Added[]> {
    const key = historyKey(userId);
    const started = performance.now();
    try {
      const outcome = await updateHistory(
        key,
        (current) => {
          const now = clock.now();
          const { window, added } = appendToWindow(liveWindow(current, now), drafts, settings.maxMessages, new Date(now).toISOString());
          if (!added.some((a) => a.created)) return { result: added };
          return { write: { v: 1, messages: window.messages, expiresAt: expiresAfter(now), bytes: window.bytes }, result: added };
        },
        read,
      );
      log.info(
        {
          attempts: outcome.attempts,
          conflicts: outcome.attempts - 1,
          batch: drafts.length,
          windowSize: outcome.result.at(-1)?.count,
          created: outcome.result.filter((a) => a.created).length,
          latencyMs: Math.round(performance.now() - started),
        },
        'chat messages appended',
      );
      return outcome.result;
    } catch (error) {
      if (!(error instanceof Unavailable && error.outcomeUnknown)) throw error;
      return resolveUnknown(key, drafts, error, log);
    }
  }

  /**
   * The save was sent but not answered, so it may have landed: read the window back. If every id we
   * wrote is there, the append happened; otherwise (or if the store cannot be read) the outcome stays
   * unknown and the 503 says so.
   */
  async function resolveUnknown(key: string, drafts: readonly Draft[], error: Unavailable, log: Log): Promise<Added[]> {
    const window = await readWindow(key, undefined).catch(() => {
      throw error;
    });
    const found = drafts.map((d) => window.messages.find((m) => m.id === d.message.id));
    if (found.some((m) => m === undefined)) throw error;
    log.warn({ err: error }, 'chat append outcome was unknown; read back: applied');
    return found.flatMap((message) => (message ? [{ message, created: true, count: window.messages.length }] : []));
  }

  /** Writes this user's waiting appends, batch after batch, until none are left. */
  async function drain(userId: string, first: Waiting[]): Promise<void> {
    let batch = first;
    for (let head = batch[0]; head !== undefined; head = batch[0]) {
      waiting.set(userId, []);
      try {
        // The batch runs within the most generous budget among its waiters, not the budget of the
        // request that happened to start this drain (which may long be over).
        const deadline = Math.max(...batch.map((w) => w.deadline ?? Number.POSITIVE_INFINITY));
        const drafts = batch.map((w) => w.draft);
        const added = await runWithDeadline(deadline, () => write(userId, drafts, head.log));
        for (const [i, w] of batch.entries()) {
          const result = added[i];
          if (result) w.resolve(result);
          else w.reject(new Error('the history write answered fewer messages than it was given'));
        }
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
      batch = waiting.get(userId) ?? [];
    }
    waiting.delete(userId);
  }

  return {
    store,

    async append(userId, input, log, fallbackId) {
      const [draft] = draftsOf([input.id === undefined && fallbackId !== undefined ? { ...input, id: fallbackId } : input]);
      if (!draft) throw new Error('no draft for one input');
      return new Promise<AppendResult>((resolve, reject) => {
        const entry: Waiting = {
          draft,
          log,
          deadline: currentDeadline(),
          resolve: ({ message, count, created }) => resolve({ message, count, created }),
          reject,
        };
        const queue = waiting.get(userId);
        if (queue) queue.push(entry);
        else void drain(userId, [entry]);
      });
    },

    async appendMany(userId, inputs, log, options = {}) {
      const added = await write(userId, draftsOf(inputs), log, options.read);
      return { messages: added.map(({ message, created }) => ({ message, created })), count: added.at(-1)?.count ?? 0 };
    },

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
        await updateHistory(key, (current) => {
          const now = clock.now();
          if (liveWindow(current, now).messages.length === 0) return { result: undefined };
          // `bytes` of an empty window: the serialised `[]`.
          return { write: { v: 1, messages: [], expiresAt: expiresAfter(now), bytes: 2 }, result: undefined };
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
