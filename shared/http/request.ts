import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { InvalidJson, PayloadTooLarge, UnsupportedMediaType, ValidationError, type ErrorDetail } from '../errors.js';

export const MAX_BODY_BYTES = 256 * 1024;

/** Parses route params with a schema; failures are 400 with a detail per field. */
export function parseParams<S extends z.ZodType>(request: HttpRequest, schema: S): z.infer<S> {
  return parseWith(schema, { ...request.params }, 'params');
}

/** Parses the query string with a schema (the last value of a repeated name wins). */
export function parseQuery<S extends z.ZodType>(request: HttpRequest, schema: S): z.infer<S> {
  return parseWith(schema, Object.fromEntries(request.query), 'query');
}

/** Reads a JSON body of at most `maxBytes`: 415 for another media type, 413 when larger, 400 when not JSON or not valid. */
export async function parseJsonBody<S extends z.ZodType>(
  request: HttpRequest,
  schema: S,
  maxBytes = MAX_BODY_BYTES,
): Promise<z.infer<S>> {
  if (!isJsonMediaType(request.headers.get('content-type'))) {
    throw new UnsupportedMediaType('Send the body as application/json.');
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readAtMost(request, maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new InvalidJson();
  }
  return parseWith(schema, body, 'body');
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, location: string): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ValidationError(toDetails(parsed.error.issues, location));
  return parsed.data;
}

function toDetails(issues: readonly z.core.$ZodIssue[], location: string): ErrorDetail[] {
  return issues.map((issue) => ({
    path: [location, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

function isJsonMediaType(contentType: string | null): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

async function readAtMost(request: HttpRequest, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): PayloadTooLarge {
  return new PayloadTooLarge(`The request body must be at most ${maxBytes / 1024} KiB.`);
}
