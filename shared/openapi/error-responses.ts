import { z } from 'zod';
import type { ZodOpenApiResponseObject } from 'zod-openapi';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from '../http/request.js';

/**
 * Every error status and code a function can answer (the table in docs/http-api.md), as reusable
 * OpenAPI responses. The conformance test checks each error the app returns against this table.
 */
export const ERROR_CODES = {
  400: ['validation_failed', 'invalid_json', 'unknown_cursor'],
  401: ['unauthenticated'],
  403: ['forbidden'],
  404: ['not_found'],
  409: ['conflict'],
  412: ['precondition_failed'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  422: ['idempotency_key_reused'],
  500: ['internal'],
  503: ['unavailable'],
} as const;

export type ErrorStatus = keyof typeof ERROR_CODES;

/** FUNCTIONS_REQUEST_BODY_SIZE_LIMIT as local.settings.example.json and infra/app/api.bicep set it. */
export const HOST_BODY_LIMIT_BYTES = 266_240;

const allCodes = Object.values(ERROR_CODES).flat() as [string, ...string[]];

export const correlationIdHeader = z.string().meta({
  description:
    'The id every log line of this request carries: the W3C trace id of a valid `traceparent`, else a well-formed `x-correlation-id` sent by the caller, else the trace id the Functions host started for this request (the Application Insights operation id), or the invocation id should the host hand over no trace context.',
  example: '4bf92f3577b34da6a3ce929d0e0e4736',
});

export const retryAfterHeader = z.string().regex(/^\d+$/).meta({
  description: 'Seconds to wait before retrying.',
  example: '5',
});

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(allCodes).meta({ description: 'Stable, machine-readable; see the table in the API description.' }),
      message: z.string().meta({ description: 'What to fix (4xx), or a generic sentence (5xx, never internals).' }),
      details: z
        .array(z.object({ path: z.string(), message: z.string() }))
        .optional()
        .meta({ description: 'One entry per invalid field (validation_failed only).' }),
      outcome: z.literal('unknown').optional().meta({
        description:
          "Only on a 503 for a write: the write may or may not have been applied. After a POST sent with an Idempotency-Key, retry with the same key; PUT, PATCH and DELETE take no key: read the resource back first. Each operation's 503 says which applies.",
      }),
    }),
    correlationId: z.string(),
  })
  .meta({ description: 'Every error answer has this shape.' });

const base = (status: ErrorStatus, description: string, example: { code: string; message: string }) =>
  ({
    description: `${description} Codes: ${ERROR_CODES[status].map((code) => `\`${code}\``).join(', ')}.`,
    headers: z.object({ 'x-correlation-id': correlationIdHeader }),
    content: {
      'application/json': {
        schema: errorSchema,
        example: { error: example, correlationId: '4bf92f3577b34da6a3ce929d0e0e4736' },
      },
    },
  }) satisfies ZodOpenApiResponseObject;

/** One reusable response per error status, registered as `components.responses.<name>`. */
export const errorResponses = {
  400: {
    ...base(
      400,
      `The request is not valid: a field, an id, a query parameter, a malformed \`If-Match\` or \`Idempotency-Key\` header, the JSON itself (also when nested deeper than ${MAX_JSON_DEPTH} levels), or an unknown paging cursor. Nothing was changed. (A malformed \`Host\` header is refused by the Functions host itself: 400 with an empty body and no \`x-correlation-id\`.)`,
      {
        code: 'validation_failed',
        message: 'The request is not valid.',
      },
    ),
    id: 'BadRequest',
  },
  401: {
    ...base(401, 'No caller identity (send `Authorization: Bearer` in Azure, `x-user-id` locally).', {
      code: 'unauthenticated',
      message: 'Send x-user-id to identify the caller.',
    }),
    id: 'Unauthenticated',
  },
  403: {
    ...base(403, "The path names another user's data and the caller is not an admin (`State.Admin`).", {
      code: 'forbidden',
      message: 'You may only access your own data.',
    }),
    id: 'Forbidden',
  },
  404: {
    ...base(404, 'Not found (for sessions: also expired, or owned by someone else).', { code: 'not_found', message: 'Not found.' }),
    id: 'NotFound',
  },
  409: {
    ...base(
      409,
      'A concurrent change won, or a request with the same Idempotency-Key is still running. Nothing was changed; safe to retry.',
      {
        code: 'conflict',
        message: 'A concurrent change won. Retry.',
      },
    ),
    id: 'Conflict',
  },
  412: {
    ...base(412, 'If-Match did not match the current version (strong comparison: a weak tag never matches).', {
      code: 'precondition_failed',
      message: 'The task has changed since you read it.',
    }),
    id: 'PreconditionFailed',
  },
  413: {
    ...base(
      413,
      `The request body is over its limit (${MAX_BODY_BYTES / 1024} KiB unless the operation says less). A body over the Functions host's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (${HOST_BODY_LIMIT_BYTES} bytes) is refused by the host before the app sees it: 413 with an empty body and no \`x-correlation-id\`.`,
      {
        code: 'payload_too_large',
        message: `The request body must be at most ${MAX_BODY_BYTES / 1024} KiB.`,
      },
    ),
    headers: z.object({ 'x-correlation-id': correlationIdHeader.optional() }),
    id: 'PayloadTooLarge',
  },
  415: {
    ...base(415, 'The body’s content-type is neither `application/json` nor another `application/*+json` type.', {
      code: 'unsupported_media_type',
      message: 'Send the body as application/json.',
    }),
    id: 'UnsupportedMediaType',
  },
  422: {
    ...base(422, 'This Idempotency-Key was already used with a different body.', {
      code: 'idempotency_key_reused',
      message: 'This Idempotency-Key was used with a different request.',
    }),
    id: 'IdempotencyKeyReused',
  },
  500: {
    ...base(500, 'An internal error; the body reveals nothing. Quote the correlation id.', {
      code: 'internal',
      message: 'An internal error occurred.',
    }),
    id: 'InternalError',
  },
  503: {
    ...base(
      503,
      'A state store or the Dapr sidecar failed, timed out or has its circuit open (never because of what the request contained). A 503 for a write means it did not happen, unless `error.outcome` is `unknown`.',
      { code: 'unavailable', message: 'A backing service is unavailable. Retry later.' },
    ),
    headers: z.object({ 'x-correlation-id': correlationIdHeader, 'retry-after': retryAfterHeader }),
    id: 'Unavailable',
  },
} satisfies Record<ErrorStatus, ZodOpenApiResponseObject>;

/**
 * The Functions host's own answer to a client too slow to send its request (headers, or a body
 * below Kestrel's minimum rate; README "The local host next to the Azure Functions host"). No
 * function runs: no body, no correlation id.
 */
export const hostTimeoutResponse = {
  description:
    'Answered by the Functions host, not the app: the client took too long to send its request headers or body. Empty body, no `x-correlation-id`; nothing was changed.',
  id: 'RequestTimeout',
} satisfies ZodOpenApiResponseObject;

/** An operation's 503: for a write, what to do when `error.outcome` is `unknown` depends on whether it takes an Idempotency-Key. */
export function unavailableResponse(write: boolean, takesIdempotencyKey: boolean): ZodOpenApiResponseObject {
  if (!write) return errorResponses[503];
  const { id: _shared, ...response } = errorResponses[503];
  const advice = takesIdempotencyKey
    ? 'With `outcome: unknown`, retry with the same `Idempotency-Key`: the retry answers the first result, or makes it, never a second one.'
    : 'With `outcome: unknown`, read the resource back before sending the request again (this operation takes no `Idempotency-Key`).';
  return { ...response, description: `${response.description} ${advice}` };
}

/** An operation's own variant of an error response, with extra headers (e.g. x-cache on a cached 404). */
export function errorResponseWithHeaders(status: ErrorStatus, headers: z.ZodObject): ZodOpenApiResponseObject {
  const { id: _shared, ...response } = errorResponses[status];
  return { ...response, headers: z.object({ 'x-correlation-id': correlationIdHeader }).extend(headers.shape) };
}
