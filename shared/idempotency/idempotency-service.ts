import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { inBackground } from '../cache/background.js';
import type { Clock } from '../clock.js';
import { AppError, Conflict, type ErrorDetail, IdempotencyKeyReused, Unavailable } from '../errors.js';
import type { Log } from '../logger.js';
import { parseStored } from '../state/compare-and-set.js';
import { idSchema } from '../schemas.js';
import { keyBuilder } from '../state/keys.js';
import type { SaveOptions, StateEntry, StateStore } from '../state/port.js';

/** How long a key is remembered (docs/http-api.md "Retries and idempotency"). */
export const IDEMPOTENCY_TTL_SECONDS = 86_400;
/** A running record older than the request budget plus this margin belongs to a request that is gone. */
export const TAKEOVER_MARGIN_MS = 2000;
/** Response headers a replay repeats; the rest (correlation id, content-type) belong to each answer. */
const REPLAYED_HEADERS = ['location', 'etag'] as const;

/** The key has the shape of every id the API takes (the OpenAPI document declares the header with idSchema too). */
export const idempotencyKeySchema = idSchema.optional();

/** What an idempotent operation answers; the same shape as the HTTP layer's Reply. */
export interface IdempotentReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface IdempotencyScope {
  /** A kebab-case operation name (a key segment): the same key on two operations never collides. */
  operation: string;
  userId: string;
  key: string;
  /** The parsed request; its canonical JSON is hashed to tell "the same request" from "a different one". */
  request: unknown;
  /**
   * `proceed`: when the record cannot be written (its store is down), run without it. Only for
   * operations that converge on their own under a retry (they use the derived id).
   * `fail` (default): answer 503.
   */
  whenStoreDown?: 'proceed' | 'fail';
}

/**
 * Runs `execute` at most once per (user, operation, key) within 24 h. `derivedId` is stable for
 * the same user, operation, key and request: operations use it as the id of what they create,
 * so a retry whose record was lost (or taken over) converges on the same item.
 */
export type Execute = (derivedId: string) => Promise<IdempotentReply>;

export interface IdempotencyService {
  run(scope: IdempotencyScope, execute: Execute, log: Log): Promise<IdempotentReply>;
}

export interface IdempotencyDeps {
  /** Where records live (the hot store: they only need to outlive retries). */
  store: StateStore;
  clock: Clock;
  /** How long a running record blocks the key before a retry may take it over. */
  runningTimeoutMs: number;
}

const storedErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
const storedReplySchema = z.object({
  status: z.number().int(),
  body: z.unknown().optional(),
  headers: z.record(z.string(), z.string()),
  error: storedErrorSchema.optional(),
});
const recordSchema = z.discriminatedUnion('state', [
  z.object({ v: z.literal(1), state: z.literal('running'), requestHash: z.string(), owner: z.string(), startedAt: z.number() }),
  z.object({ v: z.literal(1), state: z.literal('released'), requestHash: z.string(), owner: z.string(), startedAt: z.number() }),
  z.object({ v: z.literal(1), state: z.literal('done'), requestHash: z.string(), owner: z.string(), reply: storedReplySchema }),
]);
type IdempotencyRecord = z.infer<typeof recordSchema>;
type StoredReply = z.infer<typeof storedReplySchema>;

/** A 4xx replayed from a record: the first answer's code, message and details, with this request's correlation id. */
export class ReplayedError extends AppError {
  readonly code: string;
  readonly status: number;
  constructor(stored: z.infer<typeof storedErrorSchema> & { status: number }) {
    super(stored.message, stored.details ? { details: stored.details } : undefined);
    this.code = stored.code;
    this.status = stored.status;
  }
}

/**
 * Idempotency records (`idem:{operation}:{hash of user and key}`), one per key per user:
 * begin with a create-only `running` record; a second request finds it and answers 409 (still
 * running), 422 (different request), or the stored reply (done). The first request's reply (and
 * its 4xx errors, except 409) is stored as `done`; a 409, 5xx or unknown outcome marks the record
 * `released`, so a retry runs again: the operations converge through `derivedId`. A running
 * record older than `runningTimeoutMs` is taken over by compare-and-set (its request is gone).
 */
export function createIdempotencyService({ store, clock, runningTimeoutMs }: IdempotencyDeps): IdempotencyService {
  /**
   * Saves a record; a save whose outcome is unknown is read back (ours there → written). Answers
   * `refused` when another record is in the way. The operation has not run yet, so a failure is a
   * plain 503 whatever became of the record.
   */
  async function saveRecord(key: string, record: IdempotencyRecord, options: SaveOptions): Promise<'written' | 'refused'> {
    try {
      await store.save(key, record, options);
      return 'written';
    } catch (error) {
      if (error instanceof Conflict) return 'refused'; // AlreadyExists included
      if (!(error instanceof Unavailable && error.outcomeUnknown)) throw error;
      let entry: StateEntry | null;
      try {
        entry = await store.get(key);
      } catch (readError) {
        throw new Unavailable('idempotency record: outcome of its save unknown', { cause: readError });
      }
      return entry !== null && parseStored(recordSchema, key, entry.value).owner === record.owner ? 'written' : 'refused';
    }
  }

  async function begin(key: string, requestHash: string, owner: string): Promise<{ replay: StoredReply } | { claimed: true }> {
    const running: IdempotencyRecord = { v: 1, state: 'running', requestHash, owner, startedAt: clock.now() };
    const ttl = { ttlSeconds: IDEMPOTENCY_TTL_SECONDS };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if ((await saveRecord(key, running, { mode: 'create-only', ...ttl })) === 'written') return { claimed: true };
      const entry = await store.get(key);
      if (entry === null) continue; // expired or never landed: try to create it again
      const record = parseStored(recordSchema, key, entry.value);
      if (record.owner === owner) return { claimed: true }; // our own earlier save landed late
      // A released record (the first try failed) still names its request: another body is another request.
      if (record.requestHash !== requestHash) {
        throw new IdempotencyKeyReused('This Idempotency-Key was used with a different request body. Use a new key.');
      }
      if (record.state === 'done') return { replay: record.reply };
      if (record.state === 'running' && clock.now() - record.startedAt < runningTimeoutMs) throw stillRunning();
      // Released, or running for longer than any request may: take it over, unless someone else just did.
      if ((await saveRecord(key, running, { mode: 'compare-and-set', etag: entry.etag, ...ttl })) === 'written') {
        return { claimed: true };
      }
      throw stillRunning();
    }
    throw stillRunning();
  }

  /**
   * Replaces our running record (only ours: it may have been taken over) with `next`. When that
   * fails (often because the request's time budget is spent), it is tried once more in the
   * background, so a retry does not wait for the takeover delay; past that, the takeover handles it.
   */
  async function settle(key: string, owner: string, next: IdempotencyRecord, log: Log, again = true): Promise<void> {
    try {
      const entry = await store.get(key);
      if (entry === null) return;
      const record = parseStored(recordSchema, key, entry.value);
      if (record.state !== 'running' || record.owner !== owner) return;
      await store.save(key, next, { mode: 'compare-and-set', etag: entry.etag, ttlSeconds: IDEMPOTENCY_TTL_SECONDS });
    } catch (error) {
      // The reply stands; a retry finds the record running (409), then takes it over and converges.
      log.warn({ err: error, state: next.state, again }, 'could not settle the idempotency record');
      if (again) inBackground(() => void settle(key, owner, next, log, false), 0);
    }
  }

  return {
    async run(scope, execute, log) {
      const requestHash = hashOf({ operation: scope.operation, request: scope.request });
      const key = keyBuilder('idem', scope.operation)(digest(`${scope.userId}\n${scope.key}`));
      const derivedId = digest(`${scope.operation}\n${scope.userId}\n${scope.key}\n${requestHash}`).slice(0, 32);
      const owner = randomUUID();
      let claimed = true;
      try {
        const begun = await begin(key, requestHash, owner);
        if ('replay' in begun) {
          log.info({ status: begun.replay.status }, 'idempotent replay');
          return replay(begun.replay);
        }
      } catch (error) {
        if (!(error instanceof Unavailable && scope.whenStoreDown === 'proceed')) throw error;
        log.warn({ err: error }, 'idempotency store unavailable; running without a record (the operation converges by its id)');
        claimed = false;
      }
      let reply: IdempotentReply;
      try {
        reply = await execute(derivedId);
      } catch (error) {
        if (claimed) {
          const stored = storableError(error);
          await settle(
            key,
            owner,
            stored
              ? { v: 1, state: 'done', requestHash, owner, reply: stored }
              : { v: 1, state: 'released', requestHash, owner, startedAt: clock.now() },
            log,
          );
        }
        throw error;
      }
      if (claimed) {
        const headers = Object.fromEntries(
          REPLAYED_HEADERS.flatMap((name) => (reply.headers?.[name] === undefined ? [] : [[name, reply.headers[name]]])),
        );
        await settle(
          key,
          owner,
          { v: 1, state: 'done', requestHash, owner, reply: { status: reply.status, body: reply.body, headers } },
          log,
        );
      }
      return reply;
    },
  };
}

function stillRunning(): Conflict {
  return new Conflict('A request with this Idempotency-Key is still in progress. Retry later.');
}

function replay(stored: StoredReply): IdempotentReply {
  if (stored.error) throw new ReplayedError({ ...stored.error, status: stored.status });
  return { status: stored.status, ...(stored.body === undefined ? {} : { body: stored.body }), headers: stored.headers };
}

/** 4xx answers are final and stored; a 409 (a concurrent change won) is worth retrying, so it is not. */
function storableError(error: unknown): StoredReply | undefined {
  if (!(error instanceof AppError) || error.status >= 500 || error.status === 409) return undefined;
  const details: ErrorDetail[] | undefined = error.details;
  return { status: error.status, headers: {}, error: { code: error.code, message: error.message, ...(details ? { details } : {}) } };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** SHA-256 of the canonical JSON (object keys sorted), so key order and whitespace do not matter. */
export function hashOf(value: unknown): string {
  return digest(JSON.stringify(canonical(value)));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, inner]) => [name, canonical(inner)]),
    );
  }
  return value;
}
