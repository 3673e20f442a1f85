import fc from 'fast-check';
import type { HostedFunction } from '../../dev/host/host.js';

/** One generated HTTP request, as sent on the wire (the path already encoded). */
export interface FuzzRequest {
  /** The route template it was built from, e.g. `api/users/{userId}/tasks`. */
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const idChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'.split('');
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: length, maxLength: length });
const validId = (min: number, max = 128) => fc.string({ unit: fc.constantFrom(...idChars), minLength: min, maxLength: max });

/** Path values: valid ids, near misses and hostile text; raw suffixes test the host's decoding. */
function paramValue(name: string): fc.Arbitrary<{ value: string; encoded: string }> {
  const plain = fc.oneof(
    { weight: 12, arbitrary: validId(name === 'sessionId' ? 16 : 1) },
    { weight: 1, arbitrary: validId(129, 300) },
    { weight: 1, arbitrary: validId(1).map((id) => id.slice(0, 15)) },
    { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constantFrom('null', 'undefined', '__proto__', 'constructor', '0', '-1', 'a b', 'a/b', 'a?b', 'a#b') },
  );
  const encoded = plain.filter((value) => value !== '.' && value !== '..').map((value) => ({ value, encoded: encodeURIComponent(value) }));
  const rawSuffix = fc.tuple(validId(16), fc.constantFrom('%zz', '%', '%2F', '%00', '%C0%AF', '%FF')).map(([id, suffix]) => ({
    value: id,
    encoded: `${id}${suffix}`,
  }));
  return fc.oneof({ weight: 9, arbitrary: encoded }, { weight: 1, arbitrary: rawSuffix });
}

function queryString(): fc.Arbitrary<string> {
  const key = fc.oneof(fc.constantFrom('limit', 'before', 'cursor', 'userId', '__proto__'), printable);
  const value = fc.oneof(fc.constantFrom('0', '1', '20', '50', '51', '-1', '1e3', 'NaN', ''), printable, fc.string());
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 4, arbitrary: fc.array(fc.tuple(key, value), { maxLength: 4 }).map((pairs) => `?${new URLSearchParams(pairs)}`) },
    { weight: 1, arbitrary: fc.constantFrom('?%zz', '?a=%', '?&&&', '?=', '?limit=1&limit=2&limit=x') },
  );
}

const jsonLeaf = fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const anyJson = fc.jsonValue({ maxDepth: 4 });

/** A body shaped roughly like what the routes expect, with every field's type and size varied. */
const plausibleBody = fc.record(
  {
    role: fc.oneof(fc.constantFrom('user', 'assistant', 'system'), jsonLeaf),
    content: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ minLength: 15_990, maxLength: 16_010 }), jsonLeaf),
    id: fc.oneof(validId(1), jsonLeaf),
    metadata: fc.oneof(
      anyJson,
      fc.string({ minLength: 4000, maxLength: 5000 }).map((s) => ({ s })),
    ),
    title: fc.oneof(fc.string({ maxLength: 210 }), jsonLeaf),
    description: fc.oneof(fc.string({ maxLength: 2010 }), jsonLeaf),
    completed: fc.oneof(fc.boolean(), jsonLeaf),
    displayName: fc.oneof(fc.string({ maxLength: 110 }), jsonLeaf),
    email: fc.oneof(fc.emailAddress(), jsonLeaf),
    preferences: anyJson,
    data: anyJson,
    session: anyJson,
    ttlSeconds: fc.oneof(fc.integer({ min: -10, max: 100_000 }), jsonLeaf),
    sliding: fc.oneof(fc.boolean(), jsonLeaf),
    message: fc.oneof(fc.constantFrom('add a task', 'cancel', 'create task', 'hello'), fc.string({ maxLength: 4010 }), jsonLeaf),
  },
  { requiredKeys: [] },
);

/** Arrays or objects nested `depth` levels deep, around the 32-level cap and far beyond it. */
const nested = fc
  .tuple(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 30, max: 100 }), fc.integer({ min: 100, max: 20_000 })), fc.boolean())
  .map(([depth, arrays]) => (arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

/** A body otherwise valid for some route, one of whose object fields is nested deep. */
const nestedInField = fc
  .tuple(fc.constantFrom('data', 'preferences', 'metadata', 'session'), nested)
  .map(([field, text]) => `{"displayName":"d","role":"user","content":"c","title":"t","message":"m","${field}":${text}}`);

/** Bodies on both sides of the app's 256 KiB limit and the host's limit above it. */
const sized = fc.integer({ min: 200 * 1024, max: 400 * 1024 }).map((size) => JSON.stringify({ pad: 'x'.repeat(size) }));

function body(): fc.Arbitrary<Buffer | undefined> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 8, arbitrary: plausibleBody.map((value) => Buffer.from(JSON.stringify(value))) },
    { weight: 2, arbitrary: anyJson.map((value) => Buffer.from(JSON.stringify(value))) },
    { weight: 2, arbitrary: nested.map((text) => Buffer.from(text)) },
    { weight: 4, arbitrary: nestedInField.map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: sized.map((text) => Buffer.from(text)) },
  );
}

function headers(owner: string | undefined): fc.Arbitrary<Record<string, string>> {
  const otherUser = validId(1);
  const optional = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined, freq: 2 });
  return fc
    .record({
      'x-user-id': fc.option(
        owner === undefined
          ? fc.oneof(otherUser, printable)
          : fc.oneof(
              { weight: 6, arbitrary: fc.constant(owner) },
              { weight: 1, arbitrary: otherUser },
              { weight: 1, arbitrary: printable },
            ),
        { nil: undefined, freq: 8 },
      ),
      'x-user-roles': fc.option(fc.oneof(fc.constantFrom('State.Admin', 'state.admin', 'State.Admin, Other', ''), printable), {
        nil: undefined,
        freq: 2,
      }),
      'content-type': fc.option(
        fc.oneof(
          { weight: 6, arbitrary: fc.constant('application/json') },
          {
            weight: 1,
            arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/problem+json', 'text/plain', 'APPLICATION/JSON'),
          },
          { weight: 1, arbitrary: printable },
        ),
        { nil: undefined, freq: 6 },
      ),
      'if-match': optional(fc.oneof(fc.constantFrom('"1"', 'W/"1"', '*', '"abc"'), printable)),
      'idempotency-key': optional(fc.oneof(validId(1), printable)),
      traceparent: optional(
        fc.oneof(
          fc.tuple(hex(32), hex(16)).map(([t, s]) => `00-${t}-${s}-01`),
          printable,
        ),
      ),
      'x-correlation-id': optional(printable),
      'x-ms-client-principal': optional(
        fc.oneof(
          printable,
          anyJson.map((v) => Buffer.from(JSON.stringify(v)).toString('base64')),
        ),
      ),
      'x-fuzz': optional(printable),
    })
    .map((record) => Object.fromEntries(Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== undefined)));
}

/** Prints a counterexample readably: the body as its first 200 characters and its size. */
function describable(req: FuzzRequest): FuzzRequest {
  const text = req.body?.toString('utf8', 0, 200);
  const bodyText = req.body ? ` body(${req.body.length} bytes): ${JSON.stringify(text)}${req.body.length > 200 ? '…' : ''}` : '';
  return Object.assign(req, {
    [fc.toStringMethod]: () => `${req.method} ${req.path} headers: ${JSON.stringify(req.headers)}${bodyText}`,
  });
}

/** Any request to any route the host serves: its methods mostly, the others sometimes. */
export function fuzzRequest(functions: HostedFunction[]): fc.Arbitrary<FuzzRequest> {
  const routes = [...new Set(functions.map((f) => f.route))];
  const servedBy = new Map(
    routes.map((route) => [route, [...new Set(functions.filter((f) => f.route === route).flatMap((f) => f.methods))]]),
  );
  return fc.constantFrom(...routes).chain((route) => {
    const names = [...route.matchAll(/\{(\w+)[^}]*\}/g)].map((m) => m[1] ?? '');
    const served = servedBy.get(route) ?? [];
    const method = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...served) }, { weight: 1, arbitrary: fc.constantFrom(...methods) });
    const params = fc.tuple(...names.map((name) => paramValue(name)));
    return fc.tuple(method, params, queryString()).chain(([m, values, query]) => {
      const userId = values[names.indexOf('userId')]?.value;
      // A header carries only visible ASCII here; an owner id outside it is sent by nobody.
      const owner = userId !== undefined && /^[\x20-\x7e]+$/.test(userId) ? userId : undefined;
      let path = `/${route}`;
      names.forEach((name, i) => {
        path = path.replace(new RegExp(`\\{${name}[^}]*\\}`), values[i]?.encoded ?? '');
      });
      return fc
        .tuple(headers(owner), body())
        .map(([h, b]) => describable({ route, method: m, path: `${path}${query}`, headers: h, body: b }));
    });
  });
}
