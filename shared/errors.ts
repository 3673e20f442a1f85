import type { HttpResponseInit } from '@azure/functions';
import type { Log } from './logger.js';

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The one error vocabulary: a stable code, an HTTP status and a message safe to show the caller. */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly details?: ErrorDetail[];
  /** Extra response headers (e.g. `x-cache` on a 404 read). */
  readonly headers?: Record<string, string>;

  constructor(message: string, options?: { details?: ErrorDetail[]; cause?: unknown; headers?: Record<string, string> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.details) this.details = options.details;
    if (options?.headers) this.headers = options.headers;
  }
}

export class ValidationError extends AppError {
  readonly code = 'validation_failed';
  readonly status = 400;
  constructor(details: ErrorDetail[], message = 'The request is not valid.') {
    super(message, { details });
  }
}

export class InvalidJson extends AppError {
  readonly code = 'invalid_json';
  readonly status = 400;
  constructor() {
    super('The request body is not valid JSON.');
  }
}

export class Unauthenticated extends AppError {
  readonly code = 'unauthenticated';
  readonly status = 401;
}

export class Forbidden extends AppError {
  readonly code = 'forbidden';
  readonly status = 403;
}

export class NotFound extends AppError {
  readonly code = 'not_found';
  readonly status = 404;
}

/** A concurrent change won (an ETag did not match). Safe to retry. */
export class Conflict extends AppError {
  readonly code: string = 'conflict';
  readonly status = 409;
}

/** A create-only write found the key already there. */
export class AlreadyExists extends Conflict {}

export class PreconditionFailed extends AppError {
  readonly code = 'precondition_failed';
  readonly status = 412;
}

/** The same Idempotency-Key came with a different request body. */
export class IdempotencyKeyReused extends AppError {
  readonly code = 'idempotency_key_reused';
  readonly status = 422;
}

export class PayloadTooLarge extends AppError {
  readonly code = 'payload_too_large';
  readonly status = 413;
}

export class UnsupportedMediaType extends AppError {
  readonly code = 'unsupported_media_type';
  readonly status = 415;
}

/** What a 503 asks callers to wait, by default: the circuit breaker's default half-open delay. */
export const RETRY_AFTER_SECONDS = 5;

/** A dependency (a state store, the sidecar) is down, slow or behind an open circuit. */
export class Unavailable extends AppError {
  readonly code = 'unavailable';
  readonly status = 503;
  readonly retryAfterSeconds: number;
  /**
   * True when a write was sent but no answer came back (a timeout or a reset after sending), so it may
   * have been applied. Services resolve such outcomes by reading back before answering; when they
   * cannot, the 503 body says `"outcome": "unknown"` so the client retries with its Idempotency-Key.
   */
  readonly outcomeUnknown: boolean;
  constructor(message: string, options?: { retryAfterSeconds?: number; cause?: unknown; outcomeUnknown?: boolean }) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? RETRY_AFTER_SECONDS;
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }
}

/** What the caller sees for a 503: which store failed is logged, never sent. */
const UNAVAILABLE_MESSAGE = 'A backing service is unavailable. Retry later.';
const OUTCOME_UNKNOWN_MESSAGE =
  'A backing service did not answer, so the change may or may not have been applied; read it back, or retry with the same Idempotency-Key where the operation takes one.';
const INTERNAL_MESSAGE = 'An internal error occurred.';

/**
 * Turns anything thrown into the public error shape. Known errors keep their code and message
 * (5xx messages are replaced by generic ones); anything else becomes a 500 that reveals nothing
 * and is logged with its stack under `err`.
 */
export type JsonResponse = Omit<HttpResponseInit, 'headers'> & { headers: Record<string, string> };

export function errorResponse(error: unknown, correlationId: string, log: Log): JsonResponse {
  if (error instanceof AppError && error.status < 500) {
    log.info({ code: error.code, status: error.status }, 'request rejected');
    const response = errorBody(error.status, error.code, error.message, correlationId, error.details);
    return { ...response, headers: { ...error.headers, ...response.headers } };
  }
  if (error instanceof Unavailable) {
    log.warn({ err: error }, 'dependency unavailable');
    const response = error.outcomeUnknown
      ? errorBody(503, error.code, OUTCOME_UNKNOWN_MESSAGE, correlationId, undefined, 'unknown')
      : errorBody(503, error.code, UNAVAILABLE_MESSAGE, correlationId);
    return { ...response, headers: { ...response.headers, 'retry-after': String(error.retryAfterSeconds) } };
  }
  log.error({ err: error }, 'unhandled error');
  return errorBody(500, 'internal', INTERNAL_MESSAGE, correlationId);
}

function errorBody(
  status: number,
  code: string,
  message: string,
  correlationId: string,
  details?: ErrorDetail[],
  outcome?: 'unknown',
): JsonResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    jsonBody: { error: { code, message, ...(details ? { details } : {}), ...(outcome ? { outcome } : {}) }, correlationId },
  };
}

/** A paging cursor that names no message in the window. */
export class UnknownCursor extends AppError {
  readonly code = 'unknown_cursor';
  readonly status = 400;
}
