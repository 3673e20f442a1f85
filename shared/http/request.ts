import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { InvalidJson, PayloadTooLarge, UnsupportedMediaType, ValidationError, type ErrorDetail } from '../errors.js';

export const MAX_BODY_BYTES = 256 * 1024;
/**
 * How deeply a request body's JSON may nest (objects and arrays). No document of ours goes past
 * ~6 levels, and caller metadata has room to spare at 32, while serialising, validating or
 * storing a value of thousands of levels would overflow the stack somewhere (a 500 at best).
 */
export const MAX_JSON_DEPTH = 32;

/** Parses route params with a schema; failures are 400 with a detail per field. */
export function parseParams<S extends z.ZodType>(request: HttpRequest, schema: S): z.infer<S> {
  return parseWith(schema, { ...request.params }, 'params');
}

/** Parses the query string with a schema (the last value of a repeated name wins). */
export function parseQuery<S extends z.ZodType>(request: HttpRequest, schema: S): z.infer<S> {
  return parseWith(schema, Object.fromEntries(request.query), 'query');
}

/** Reads a JSON body of at most `maxBytes`: 415 for another media type, 413 when larger, 400 when not JSON or not valid. */
export async function parseJsonBody<S extends z.ZodType>(request: HttpRequest, schema: S, maxBytes = MAX_BODY_BYTES): Promise<z.infer<S>> {
  if (!isJsonMediaType(request.headers.get('content-type'))) {
    throw new UnsupportedMediaType('Send the body as application/json.');
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readAtMost(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidJson();
  }
  // Before JSON.parse: nothing downstream (parse, schema, stringify, store) ever sees a deep value.
  if (nestingExceeds(text, MAX_JSON_DEPTH)) {
    throw new ValidationError([{ path: 'body', message: `must not nest objects and arrays more than ${MAX_JSON_DEPTH} levels deep` }]);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
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

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text opens more than `max` objects/arrays inside each other: one pass, no recursion,
 * brackets inside strings (escapes included) ignored. Text that is not JSON is left to JSON.parse.
 */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
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
