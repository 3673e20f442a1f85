import { z } from 'zod';
import { type ApiError, malformedRequest, malformedSaveBody } from './api-errors.js';

/*
 * Request bodies as daprd decodes them with encoding/json: unknown fields are ignored, `null`
 * means "not given", and a field of the wrong JSON type fails the whole request with 400.
 */

const metadataSchema = z.record(z.string(), z.string()).nullish();

const optionsSchema = z.object({ concurrency: z.string().nullish(), consistency: z.string().nullish() }).nullish();

const stateRequestSchema = z.object({
  key: z.string().nullish(),
  value: z.unknown().optional(),
  etag: z.string().nullish(),
  metadata: metadataSchema,
  options: optionsSchema,
});

const saveBodySchema = z.array(stateRequestSchema).nullable();

const bulkGetBodySchema = z.object({
  keys: z.array(z.string()).nullish(),
  parallelism: z.number().int().nullish(),
  metadata: metadataSchema,
});

const transactionBodySchema = z.object({
  operations: z.array(z.object({ operation: z.string().nullish(), request: z.unknown().optional() })).nullish(),
  metadata: metadataSchema,
});

/** One item of a save, or the `request` of a transaction operation, with defaults applied. */
export interface StateRequest {
  key: string;
  /** JSON text of `value`; a missing value is stored as `null`, as daprd does. */
  value: string;
  etag: string | undefined;
  metadata: Record<string, string>;
  options: { concurrency?: string; consistency?: string };
}

export interface BulkGetBody {
  keys: string[];
  metadata: Record<string, string>;
}

export interface TransactionBody {
  /** `request` is decoded per operation, in order, as daprd does (see parseStateRequest). */
  operations: Array<{ operation: string; request: unknown }>;
  metadata: Record<string, string>;
}

type Refusal = (detail: string) => ApiError;

export function parseJsonBody(text: string, refuse: Refusal = malformedRequest): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw refuse(error instanceof Error ? error.message : String(error));
  }
}

/** daprd reports a bad save body with the decoder's text alone, other bodies with a prefix. */
export function parseSaveBody(text: string): StateRequest[] {
  const items = decode(saveBodySchema, parseJsonBody(text, malformedSaveBody), malformedSaveBody) ?? [];
  return items.map(toStateRequest);
}

export function parseBulkGetBody(text: string): BulkGetBody {
  const body = decode(bulkGetBodySchema, parseJsonBody(text));
  return { keys: body.keys ?? [], metadata: body.metadata ?? {} };
}

export function parseTransactionBody(text: string): TransactionBody {
  const body = decode(transactionBodySchema, parseJsonBody(text));
  return {
    operations: (body.operations ?? []).map(({ operation, request }) => ({ operation: operation ?? '', request })),
    metadata: body.metadata ?? {},
  };
}

/** One transaction operation's `request`. */
export function parseStateRequest(request: unknown): StateRequest {
  return toStateRequest(decode(stateRequestSchema, request ?? {}));
}

function decode<T>(schema: z.ZodType<T>, json: unknown, refuse: Refusal = malformedRequest): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw refuse(z.prettifyError(parsed.error));
  return parsed.data;
}

function toStateRequest(item: z.infer<typeof stateRequestSchema>): StateRequest {
  return {
    key: item.key ?? '',
    value: JSON.stringify(item.value ?? null),
    etag: item.etag ?? undefined,
    metadata: item.metadata ?? {},
    options: {
      ...(item.options?.concurrency ? { concurrency: item.options.concurrency } : {}),
      ...(item.options?.consistency ? { consistency: item.options.consistency } : {}),
    },
  };
}
