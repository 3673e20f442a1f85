import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type Host } from '../../dev/host/host.js';
import { captureLogger } from './capture-logger.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const logger = captureLogger();
let host: Host;

beforeAll(async () => {
  host = await startHost({
    port: 0,
    functionFiles: [`${fixtures}echo.ts`, `${fixtures}routes.ts`, `${fixtures}responses.ts`],
    logger,
  });
});

afterAll(async () => {
  await host?.close();
});

function call(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${host.url}${path}`, init);
}

interface Echo {
  method: string;
  url: string;
  params: Record<string, string>;
  query: Record<string, string>;
  tags: string[];
  headers: Record<string, string>;
  body: string;
  isHttpRequest: boolean;
  isInvocationContext: boolean;
  invocationId: string;
  functionName: string;
}

async function echo(path: string, init?: RequestInit): Promise<Echo> {
  const res = await call(path, init);
  expect(res.status).toBe(200);
  return (await res.json()) as Echo;
}

describe('startup', () => {
  it('listens on a free port on 127.0.0.1 and reports its url', () => {
    expect(host.port).toBeGreaterThan(0);
    expect(host.url).toBe(`http://127.0.0.1:${host.port}`);
  });

  it('lists the registered HTTP functions with their full routes and methods', () => {
    expect(host.functions).toContainEqual({ name: 'echo', route: 'api/echo/{id}', methods: ['GET', 'POST', 'PUT', 'DELETE'] });
    expect(host.functions).toContainEqual({ name: 'DefaultRoute', route: 'api/DefaultRoute', methods: ['GET'] });
  });
});

describe('invocation', () => {
  it('hands the handler real HttpRequest and InvocationContext instances built by the library', async () => {
    const body = await echo('/api/echo/abc');
    expect(body.isHttpRequest).toBe(true);
    expect(body.isInvocationContext).toBe(true);
    expect(body.functionName).toBe('echo');
  });

  it('gives every invocation a fresh random UUID', async () => {
    const first = await echo('/api/echo/1');
    const second = await echo('/api/echo/1');
    expect(first.invocationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second.invocationId).not.toBe(first.invocationId);
  });

  it('logs each execution like func start', async () => {
    const { invocationId } = await echo('/api/echo/logged');
    expect(logger.text('info')).toContain(`Executing 'Functions.echo' (Reason=`);
    expect(logger.text('info')).toMatch(new RegExp(`Executed 'Functions.echo' \\(Succeeded, Id=${invocationId}, Duration=\\d+ms\\)`));
  });

  it('routes context.log, warn and error to the matching log levels', async () => {
    expect(await (await call('/api/responses/logs')).text()).toBe('logged');
    expect(logger.text('info')).toContain('info from handler');
    expect(logger.text('warn')).toContain('warning from handler');
    expect(logger.text('error')).toContain('error from handler');
  });
});

describe('routing', () => {
  it('passes URL-decoded route params to the handler', async () => {
    expect((await echo('/api/echo/hello%20world')).params).toEqual({ id: 'hello world' });
  });

  it('answers 404 with an empty body for an unknown route', async () => {
    const res = await call('/api/does-not-exist');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('');
    expect((await call('/echo/1')).status).toBe(404);
  });

  it('answers 404 with an empty body, like the Azure host, when the route exists but not the method', async () => {
    const res = await call('/api/echo/1', { method: 'PATCH' });
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
    expect(await res.text()).toBe('');
  });

  it('answers 404 to a method no function sharing the route serves, HEAD on a GET route included', async () => {
    expect((await call('/api/items', { method: 'DELETE' })).status).toBe(404);
    expect((await call('/api/DefaultRoute', { method: 'HEAD' })).status).toBe(404);
    expect((await call('/api/DefaultRoute')).status).toBe(200);
  });

  it('dispatches one route to different functions by method', async () => {
    expect(await (await call('/api/items')).text()).toBe('list');
    const created = await call('/api/items', { method: 'POST' });
    expect(created.status).toBe(201);
    expect(await created.text()).toBe('created');
  });

  it('matches registered methods case-insensitively', async () => {
    const res = await call('/api/lower', { method: 'PUT' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('put ok');
  });

  it('matches literal segments case-insensitively and defaults the route to the function name', async () => {
    expect(await (await call('/API/defaultroute')).text()).toBe('default route');
  });

  it('prefers literal segments over parameters', async () => {
    expect(await (await call('/api/items/special')).text()).toBe('special');
  });

  it('fills optional params only when present', async () => {
    expect(await (await call('/api/items/7')).json()).toEqual({ id: '7' });
    expect(await (await call('/api/items/7/blue-widget')).json()).toEqual({ id: '7', slug: 'blue-widget' });
  });

  it('selects routes by constraint: int, alpha, guid, bool', async () => {
    expect(await (await call('/api/items/abc')).json()).toEqual({ name: 'abc' });
    expect((await call('/api/items/abc1')).status).toBe(404);
    const guid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
    expect(await (await call(`/api/orders/${guid}`)).json()).toEqual({ orderId: guid });
    expect((await call('/api/orders/42')).status).toBe(404);
    expect(await (await call('/api/flags/false')).json()).toEqual({ on: 'false' });
    expect((await call('/api/flags/maybe')).status).toBe(404);
  });

  it('serves routes with unknown constraints without rejecting values', async () => {
    expect(await (await call('/api/odd/whatever')).json()).toEqual({ value: 'whatever' });
  });

  it('captures the remaining path with a catch-all and applies default values', async () => {
    expect(await (await call('/api/files/docs/a%20b/readme.md')).json()).toEqual({ path: 'docs/a b/readme.md' });
    expect(await (await call('/api/pages')).json()).toEqual({ page: '1' });
  });
});

describe('requests', () => {
  it('passes method, url and query, keeping repeated query keys', async () => {
    const body = await echo('/api/echo/q?tag=a&tag=b&name=J%C3%B6rg');
    expect(body.method).toBe('GET');
    expect(body.url).toBe(`${host.url}/api/echo/q?tag=a&tag=b&name=J%C3%B6rg`);
    expect(body.tags).toEqual(['a', 'b']);
    expect(body.query.name).toBe('Jörg');
  });

  it('passes request headers through', async () => {
    const body = await echo('/api/echo/h', { headers: { 'X-Custom': 'custom value', 'content-type': 'text/plain' } });
    expect(body.headers['x-custom']).toBe('custom value');
    expect(body.headers['content-type']).toBe('text/plain');
  });

  it('passes string and JSON bodies through', async () => {
    const json = JSON.stringify({ a: 1, nested: { b: [true, null] } });
    expect((await echo('/api/echo/b', { method: 'POST', body: json })).body).toBe(json);
    expect((await echo('/api/echo/b', { method: 'PUT', body: 'plain ✓' })).body).toBe('plain ✓');
    expect((await echo('/api/echo/b', { method: 'POST' })).body).toBe('');
  });

  it('passes binary request bodies through byte for byte', async () => {
    const bytes = new Uint8Array(256).map((_, i) => 255 - i);
    const res = await call('/api/bytes-echo', { method: 'POST', body: bytes });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });
});

describe('responses', () => {
  it('writes jsonBody with status, custom headers and content-type', async () => {
    const res = await call('/api/responses/created', { method: 'POST' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-trace-id')).toBe('trace-123');
    expect(res.headers.get('location')).toBe('/api/items/42');
    expect(await res.json()).toEqual({ id: 42, name: 'widget' });
  });

  it('writes cookies as Set-Cookie headers', async () => {
    const res = await call('/api/responses/created', { method: 'POST' });
    expect(res.headers.getSetCookie()).toEqual(['session=abc; max-age=60; path=/; samesite=lax; httponly']);
  });

  it('defaults the status to 200 and types string bodies as text', async () => {
    const res = await call('/api/responses/text');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
    expect(await res.text()).toBe('plain text');
  });

  it('writes byte bodies untouched', async () => {
    const res = await call('/api/responses/bytes');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe('5');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 1, 2, 254, 255]);
  });

  it('collects stream bodies', async () => {
    expect(await (await call('/api/responses/stream')).text()).toBe('chunk-1,chunk-2');
  });

  it('accepts HttpResponse instances', async () => {
    const res = await call('/api/responses/instance');
    expect(res.status).toBe(202);
    expect(res.headers.get('x-kind')).toBe('instance');
    expect(await res.text()).toBe('accepted');
  });

  it('sends a status without a body', async () => {
    const res = await call('/api/responses/teapot');
    expect(res.status).toBe(418);
    expect(await res.text()).toBe('');
  });

  it('answers 204 when the handler returns nothing', async () => {
    const res = await call('/api/responses/nothing');
    expect(res.status).toBe(204);
  });

  it('answers 500 with an empty body when the handler throws, logging the error instead', async () => {
    const res = await call('/api/responses/throws');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('');
    expect([...res.headers.keys()].filter((h) => !['connection', 'content-length', 'date', 'keep-alive'].includes(h))).toEqual([]);
    expect(logger.text('error')).toMatch(/Executed 'Functions.throws' \(Failed, Id=[0-9a-f-]+, Duration=\d+ms\)/);
    expect(logger.text('error')).toContain('secret failure detail');
  });
});
