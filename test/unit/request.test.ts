import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidJson, PayloadTooLarge, UnsupportedMediaType, ValidationError } from '../../shared/errors.js';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH, nestingExceeds, parseJsonBody, parseParams, parseQuery } from '../../shared/http/request.js';

const bodySchema = z.object({ title: z.string().min(1), done: z.boolean().optional() });

function post(body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost/api/things?limit=5',
    headers,
    body: typeof body === 'string' ? { string: body } : { bytes: body },
    params: { userId: 'alice' },
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('JSON body parsing', () => {
  it('returns the parsed, validated body', async () => {
    await expect(parseJsonBody(post('{"title":"buy milk","done":true}'), bodySchema)).resolves.toEqual({ title: 'buy milk', done: true });
  });

  it('accepts a charset parameter and +json media types', async () => {
    await expect(parseJsonBody(post('{"title":"a"}', { 'content-type': 'application/json; charset=utf-8' }), bodySchema)).resolves.toEqual({
      title: 'a',
    });
    await expect(parseJsonBody(post('{"title":"a"}', { 'content-type': 'application/merge-patch+json' }), bodySchema)).resolves.toEqual({
      title: 'a',
    });
  });

  it.each([
    ['no content type', {}],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('rejects %s with 415', async (_what, headers) => {
    expect(await rejection(parseJsonBody(post('{"title":"a"}', headers), bodySchema))).toBeInstanceOf(UnsupportedMediaType);
  });

  it('rejects a body over 256 KiB with 413, by declared length or by counting', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(MAX_BODY_BYTES) });
    expect(await rejection(parseJsonBody(post(big), bodySchema))).toBeInstanceOf(PayloadTooLarge);
    const declared = post('{"title":"a"}', { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) });
    expect(await rejection(parseJsonBody(declared, bodySchema))).toBeInstanceOf(PayloadTooLarge);
  });

  it('accepts a body of exactly the limit', async () => {
    const filler = 'x'.repeat(MAX_BODY_BYTES - '{"title":""}'.length);
    await expect(parseJsonBody(post(`{"title":"${filler}"}`), bodySchema)).resolves.toEqual({ title: filler });
  });

  it.each([
    ['broken JSON', '{"title":'],
    ['an empty body', ''],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
  ])('rejects %s with invalid_json', async (_what, body) => {
    expect(await rejection(parseJsonBody(post(body), bodySchema))).toBeInstanceOf(InvalidJson);
  });

  it('rejects a body that breaks the schema with a detail per field', async () => {
    const error = await rejection(parseJsonBody(post('{"title":"","done":"yes"}'), bodySchema));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details?.map((d) => d.path)).toEqual(['body.title', 'body.done']);
  });
});

describe('params and query parsing', () => {
  it('parses route params and query strings with schemas', () => {
    const request = post('{}');
    expect(parseParams(request, z.object({ userId: z.string() }))).toEqual({ userId: 'alice' });
    expect(parseQuery(request, z.object({ limit: z.coerce.number().int() }))).toEqual({ limit: 5 });
  });

  it('names the failing param or query field', () => {
    const request = post('{}');
    expect(() => parseParams(request, z.object({ userId: z.string().min(10) }))).toThrow(ValidationError);
    let thrown: unknown;
    try {
      parseQuery(request, z.object({ limit: z.coerce.number().max(2) }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).details).toEqual([{ path: 'query.limit', message: expect.any(String) }]);
  });
});

describe('JSON nesting depth', () => {
  const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;
  const anything = z.unknown();

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1} with 400 validation_failed at the body`, async () => {
    await expect(parseJsonBody(post(nested(MAX_JSON_DEPTH)), anything)).resolves.toBeDefined();
    const error = await rejection(parseJsonBody(post(nested(MAX_JSON_DEPTH + 1)), anything));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ path: 'body', message: expect.stringContaining(`${MAX_JSON_DEPTH} levels`) }]);
  });

  it('refuses 5,000 levels of objects with a 400, not a stack overflow', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    await expect(rejection(parseJsonBody(post(deep), anything))).resolves.toBeInstanceOf(ValidationError);
  });

  it('counts only brackets outside strings, escaped quotes included', () => {
    expect(nestingExceeds(`{"a":"${'['.repeat(100)}"}`, 2)).toBe(false);
    expect(nestingExceeds(String.raw`{"a":"\\"}`, 1)).toBe(false);
    expect(nestingExceeds(String.raw`{"a":"\\\"[[[[","b":[]}`, 2)).toBe(false);
    expect(nestingExceeds(String.raw`{"a":"\\",  "b":[[]]}`, 2)).toBe(true);
    expect(nestingExceeds(nested(3, '{"k":[', ']}'), 5)).toBe(true);
    expect(nestingExceeds(nested(3, '{"k":[', ']}'), 6)).toBe(false);
  });

  it('still answers invalid_json for shallow text that is not JSON', async () => {
    await expect(rejection(parseJsonBody(post('[[[}'), anything))).resolves.toBeInstanceOf(InvalidJson);
  });
});
