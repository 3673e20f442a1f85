import { z } from 'zod';
import { AlreadyExists, AppError, Conflict, Unavailable } from '../errors.js';

/**
 * Sorting what the Dapr SDK throws (docs/dapr.md). Only failures of the path to the data count as
 * "store unavailable": the sidecar unreachable or silent, or the sidecar saying the store failed.
 * Anything else — a value the SDK cannot serialise, an answer we cannot read, our own bugs — is an
 * internal error (500) that neither says 503 nor counts toward the circuit breaker, so no request
 * body can take the store away from other users.
 */

/**
 * The store (or the way to it) failed: the only error the circuit breaker counts. Every other
 * `Unavailable` from the adapter (circuit open, request budget spent, a timeout the budget cut
 * short, a per-key bulk error that names no transport failure) is answered 503 but says nothing
 * about the store's health.
 */
export class StoreUnreachable extends Unavailable {}

/** The sidecar or the store refused the request itself: a bug on our side, never shown to callers. */
export class StateRequestRejected extends Error {
  constructor(
    readonly status: number,
    readonly storeMessage: string,
  ) {
    super(`state store rejected the request (${status}): ${storeMessage}`);
    this.name = 'StateRequestRejected';
  }
}

export type Operation = 'get' | 'save' | 'delete' | 'bulk' | 'transaction';

export interface CallContext {
  operation: Operation;
  etagSent: boolean;
  createOnly: boolean;
  /** The keys involved: removed from store messages before reading them, since ids are caller-chosen. */
  keys: readonly string[];
}

/** How a call ended without an answer, as seen from the adapter. */
export interface CallFate {
  /** The request was handed to the SDK (the sidecar was known to be up); false while still waiting for it. */
  sent: boolean;
  /** Our own timer fired after this many ms. */
  timedOutAfterMs?: number;
  /** That timer was shorter than DAPR_TIMEOUT_MS because the request's budget was nearly spent. */
  cutByBudget?: boolean;
}

const sdkFailureSchema = z.object({ status: z.number(), error_msg: z.string().optional() });

/** Redis answers "failed to set key", PostgreSQL v2 "no item was updated" when a first-write save finds the key. */
const CREATE_COLLISION = /failed to set key|no item was updated/i;
const ETAG_PROBLEM = /etag|failed to set key|no item was updated|possible etag mismatch/i;
/**
 * Store errors that mean "could not talk to the database", whatever status daprd wrapped them in
 * (go-redis, pgx, and the stand-in's ioredis/pg). Matched only after the keys are removed from the
 * message: ids are chosen by callers and could spell any of these.
 */
const TRANSPORT_FAILURE = new RegExp(
  [
    'connection refused',
    'connection reset',
    'broken pipe',
    'i/o timeout',
    'dial tcp',
    'no such host',
    '\\bEOF\\b',
    'context deadline exceeded',
    'connection pool timeout',
    'client is closed',
    'connection is closed',
    'connection terminated',
    "stream isn't writeable",
    'command timed out',
    'query read timeout',
    'max retries per request',
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
  ].join('|'),
  'i',
);
/** Store messages saying the command never reached the database (checked before the others: "dial tcp … i/o timeout" is a connect timeout). */
const STORE_NOT_REACHED =
  /connection refused|dial tcp|no such host|connection pool timeout|client is closed|stream isn't writeable|max retries per request|ECONNREFUSED|timeout exceeded when trying to connect/i;

/** Socket error codes (node-fetch's FetchError, or undici's `cause`) that are transport failures. */
const TRANSPORT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** Of those, the ones that fail before a byte of the request left: such a write surely did not happen. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** What the SDK throws when the sidecar never answered its `/v1.0/metadata` probe. */
const SIDECAR_NOT_STARTED = 'DAPR_SIDECAR_COULD_NOT_BE_STARTED';

const isWrite = (context: CallContext) => context.operation !== 'get' && context.operation !== 'bulk';

export function classify(error: unknown, context: CallContext, store: string, fate: CallFate): Error {
  if (error instanceof AppError) return error;
  const what = `state store ${store}: ${context.operation}`;
  if (fate.timedOutAfterMs !== undefined) {
    const options = { cause: error, outcomeUnknown: fate.sent && isWrite(context) };
    // Cut short by the request's budget, the sidecar was not given its full time: that says
    // nothing about the store, so it is not counted (else one slow request would open the circuit).
    if (fate.cutByBudget)
      return new Unavailable(`${what} stopped after ${fate.timedOutAfterMs} ms: the request's time budget ran out`, options);
    return new StoreUnreachable(`${what} timed out after ${fate.timedOutAfterMs} ms`, options);
  }
  const code = transportCode(error);
  if (code !== undefined) {
    const outcomeUnknown = isWrite(context) && !NOT_SENT_CODES.has(code);
    return new StoreUnreachable(`${what} failed to reach the sidecar (${code})`, { cause: error, outcomeUnknown });
  }
  if (error instanceof Error && error.message === SIDECAR_NOT_STARTED) {
    return new StoreUnreachable(`${what}: the sidecar never became ready`, { cause: error });
  }
  const failure = parseSdkFailure(error);
  if (!failure) {
    // Failed on our side before or after the exchange (a value the SDK cannot serialise, an answer
    // it cannot read): internal, not counted, never a 503.
    return error instanceof Error ? error : new Error(`${what} failed: ${String(error)}`);
  }
  const { status } = failure;
  const message = withoutKeys(failure.message, context.keys);
  const transport = TRANSPORT_FAILURE.test(message);
  const storeFailure = (detail: string) =>
    new StoreUnreachable(`${what} failed (${detail}): ${message}`, {
      cause: error,
      // The database may have applied a write whose answer it never sent (a timeout, a reset).
      outcomeUnknown: isWrite(context) && !STORE_NOT_REACHED.test(message),
    });
  // The Redis component reports every failed delete, and every failed save that carried an ETag,
  // as an ETag mismatch (409), and a failed create-only save as "failed to set key" (500), even
  // when Redis itself was unreachable: the cause decides.
  if ((status === 409 || status === 500) && transport) return storeFailure(`${status}, store unreachable`);
  if (status === 409) return new Conflict('A concurrent change won. Retry the request.', { cause: error });
  // Redis cannot parse a foreign ETag (400) where PostgreSQL calls it a mismatch (409): same meaning.
  if (status === 400 && context.etagSent && /etag/i.test(message)) {
    return new Conflict('A concurrent change won. Retry the request.', { cause: error });
  }
  if (status === 500 && context.createOnly && CREATE_COLLISION.test(message)) {
    return new AlreadyExists('The item already exists.', { cause: error });
  }
  // A failed transaction always answers 500, an ETag mismatch included.
  if (status === 500 && context.operation === 'transaction' && context.etagSent && ETAG_PROBLEM.test(message)) {
    return new Conflict('A concurrent change won. Retry the request.', { cause: error });
  }
  if (status >= 500) return storeFailure(String(status));
  return new StateRequestRejected(status, message);
}

/**
 * A per-key error inside a 200 bulk answer (daprd's default bulk get reports each key's failure
 * inline). Counted only when it names a transport failure — then the store itself is down, and on
 * Redis this is how a dead server shows on reads; anything else concerns that key alone.
 */
export function classifyBulkItemError(itemError: string, keys: readonly string[], store: string): Unavailable {
  const message = withoutKeys(itemError, keys);
  return TRANSPORT_FAILURE.test(message)
    ? new StoreUnreachable(`state store ${store}: bulk get failed for a key (store unreachable): ${message}`)
    : new Unavailable(`state store ${store}: bulk get failed for a key: ${message}`);
}

function withoutKeys(message: string, keys: readonly string[]): string {
  let text = message;
  for (const key of keys) text = text.replaceAll(key, '<key>');
  return text;
}

/** The socket error code of a transport failure, from node-fetch (`code`) or undici (`cause.code`). */
function transportCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  for (const candidate of [error, error.cause]) {
    if (typeof candidate !== 'object' || candidate === null || !('code' in candidate)) continue;
    if (typeof candidate.code === 'string' && TRANSPORT_CODES.has(candidate.code)) return candidate.code;
  }
  return undefined;
}

function parseSdkFailure(error: unknown): { status: number; message: string } | null {
  if (!(error instanceof Error) || !error.message.startsWith('{')) return null;
  let body: unknown;
  try {
    body = JSON.parse(error.message);
  } catch {
    return null;
  }
  const parsed = sdkFailureSchema.safeParse(body);
  return parsed.success ? { status: parsed.data.status, message: parsed.data.error_msg ?? '' } : null;
}
