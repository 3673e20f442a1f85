import { Writable } from 'node:stream';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../shared/config.js';
import { buildDeps } from '../../shared/deps.js';
import { NotFound } from '../../shared/errors.js';
import { httpHandler, type FunctionBody } from '../../shared/http/handler.js';
import { remainingMs } from '../../shared/state/deadline.js';
import { createLogger } from '../../shared/logger.js';

function harness(body: FunctionBody, settings: Record<string, string> = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  // A short per-call timeout, so that short request budgets stay valid settings.
  const config = loadConfig({ AUTH_MODE: 'trusted-header', LOG_LEVEL: 'debug', DAPR_TIMEOUT_MS: '100', ...settings });
  const deps = buildDeps(config, { logger: createLogger('debug', sink) });
  const handler = httpHandler(body, () => deps);
  const invoke = (init: { method?: string; headers?: Record<string, string>; body?: string; params?: Record<string, string> } = {}) =>
    handler(
      new HttpRequest({
        method: init.method ?? 'GET',
        url: 'http://localhost/api/users/alice/things',
        headers: init.headers ?? {},
        params: init.params ?? { userId: 'alice' },
        ...(init.body === undefined ? {} : { body: { string: init.body } }),
      }),
      new InvocationContext({ invocationId: 'inv-0001', functionName: 'things' }),
    );
  return { invoke, lines };
}

describe('the HTTP handler wrapper', () => {
  it('returns the reply as JSON with the correlation id header', async () => {
    const { invoke } = harness(async () => ({ status: 201, body: { ok: true }, headers: { location: '/x' } }));
    expect(await invoke({ headers: { 'x-correlation-id': 'corr-abc-123' } })).toEqual({
      status: 201,
      headers: { 'content-type': 'application/json', location: '/x', 'x-correlation-id': 'corr-abc-123' },
      jsonBody: { ok: true },
    });
  });

  it('answers a reply without a body with no body', async () => {
    const { invoke } = harness(async () => ({ status: 204 }));
    expect(await invoke()).toEqual({ status: 204, headers: { 'x-correlation-id': 'inv-0001' } });
  });

  it('maps a typed error to its status and code, with the correlation id in body and header', async () => {
    const { invoke } = harness(async () => {
      throw new NotFound('No such thing.');
    });
    const response = await invoke();
    expect(response.status).toBe(404);
    expect(response.headers).toMatchObject({ 'x-correlation-id': 'inv-0001' });
    expect(response.jsonBody).toEqual({ error: { code: 'not_found', message: 'No such thing.' }, correlationId: 'inv-0001' });
  });

  it('turns a crash into a 500 that leaks nothing, and logs it under the correlation id', async () => {
    const { invoke, lines } = harness(async () => {
      throw new TypeError('cannot read properties of undefined (reading "secret")');
    });
    const response = await invoke();
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.jsonBody)).not.toContain('secret');
    const logged = lines.find((line) => line.level === 'error');
    expect(logged).toMatchObject({ correlationId: 'inv-0001', functionName: 'things', invocationId: 'inv-0001' });
    expect(JSON.stringify(logged?.err)).toContain('secret');
  });

  it('logs one completion line per request with status and latency', async () => {
    const { invoke, lines } = harness(async () => ({ status: 200, body: {} }));
    await invoke();
    expect(lines.filter((line) => line.msg === 'request completed')).toEqual([
      expect.objectContaining({ correlationId: 'inv-0001', method: 'GET', status: 200, durationMs: expect.any(Number) }),
    ]);
  });

  it('gives the completion line the same fields whether or not the body used its logger', async () => {
    const quiet = harness(async () => ({ status: 200, body: {} }));
    const chatty = harness(async (ctx) => {
      ctx.log.info({ step: 1 }, 'working');
      return { status: 200, body: {} };
    });
    await quiet.invoke();
    await chatty.invoke();
    const completion = (lines: Array<Record<string, unknown>>) => {
      const { time: _time, durationMs: _duration, ...rest } = lines.find((line) => line.msg === 'request completed') ?? {};
      return rest;
    };
    expect(completion(quiet.lines)).toEqual(completion(chatty.lines));
    expect(completion(quiet.lines)).toMatchObject({ correlationId: 'inv-0001', functionName: 'things', invocationId: 'inv-0001' });
    expect(chatty.lines.find((line) => line.msg === 'working')).toMatchObject({ correlationId: 'inv-0001', step: 1 });
  });

  it('authenticates before anything else, then validates and authorizes the path user', async () => {
    const body: FunctionBody = async (ctx) => ({ status: 200, body: { userId: ctx.pathUser(), caller: ctx.caller() } });
    const { invoke } = harness(body);
    expect((await invoke()).status).toBe(401);
    expect((await invoke({ headers: { 'x-user-id': 'bob' } })).status).toBe(403);
    expect((await invoke({ params: { userId: 'a:b' } })).status).toBe(401);
    expect((await invoke({ headers: { 'x-user-id': 'bob' }, params: { userId: 'a:b' } })).status).toBe(400);
    expect((await invoke({ headers: { 'x-user-id': 'bob', 'x-user-roles': 'State.Admin' } })).jsonBody).toEqual({
      userId: 'alice',
      caller: { userId: 'bob', isAdmin: true },
    });
    expect((await invoke({ headers: { 'x-user-id': 'alice' } })).jsonBody).toEqual({
      userId: 'alice',
      caller: { userId: 'alice', isAdmin: false },
    });
  });

  it('answers 400 with details for a body that breaks the schema', async () => {
    const { invoke } = harness(async (ctx) => ({ status: 200, body: await ctx.body(z.object({ title: z.string().min(1) })) }));
    const response = await invoke({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":""}' });
    expect(response.status).toBe(400);
    expect(response.jsonBody).toMatchObject({ error: { code: 'validation_failed', details: [{ path: 'body.title' }] } });
  });
});

describe('the request deadline (REQUEST_TIMEOUT_MS)', () => {
  const never = () => new Promise<never>(() => undefined);

  it('gives the body the request budget, which store calls read', async () => {
    const { invoke } = harness(async () => ({ status: 200, body: { remainingMs: remainingMs() } }), { REQUEST_TIMEOUT_MS: '800' });
    const { remainingMs: left } = (await invoke()).jsonBody as { remainingMs: number };
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(800);
    expect(remainingMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('answers 503 with Retry-After at the deadline when the body hangs, saying nothing internal', async () => {
    const { invoke, lines } = harness(never, { REQUEST_TIMEOUT_MS: '200' });
    const started = performance.now();
    const response = await invoke();
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(response.status).toBe(503);
    expect(response.headers).toMatchObject({ 'retry-after': '5', 'x-correlation-id': 'inv-0001' });
    expect(response.jsonBody).toEqual({
      error: { code: 'unavailable', message: 'A backing service is unavailable. Retry later.' },
      correlationId: 'inv-0001',
    });
    expect(lines.find((line) => line.msg === 'request completed')).toMatchObject({ status: 503 });
  });

  it('says the outcome is unknown when a request that may write is cut off', async () => {
    const { invoke } = harness(never, { REQUEST_TIMEOUT_MS: '200' });
    const response = await invoke({ method: 'POST' });
    expect(response.status).toBe(503);
    expect(response.jsonBody).toMatchObject({ error: { code: 'unavailable', outcome: 'unknown' } });
  });
});

describe('the HTTP handler wrapper when the dependencies cannot be built', () => {
  it('answers a 500 that leaks nothing, with the correlation id', async () => {
    const handler = httpHandler(
      async () => ({ status: 200 }),
      () => Promise.reject(new Error('cannot load module /srv/secret/path')),
    );
    const response = await handler(
      new HttpRequest({ method: 'GET', url: 'http://localhost/api/x', headers: { 'x-correlation-id': 'corr-startup-1' } }),
      new InvocationContext({ invocationId: 'inv-2', functionName: 'x' }),
    );
    expect(response.status).toBe(500);
    expect(response.headers['x-correlation-id']).toBe('corr-startup-1');
    expect(JSON.stringify(response.jsonBody)).not.toContain('secret');
  });
});
