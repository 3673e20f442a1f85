import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { uniqueId } from '../support/ids.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

const sessionId = () => uniqueId('sess-0123456789');
const url = (id: string) => `${stack.api}/sessions/${id}`;
const put = (id: string, body: unknown, user = 'alice') => call('PUT', url(id), { user, body });
const get = (id: string, user = 'alice') => call('GET', url(id), { user });
const del = (id: string, user = 'alice') => call('DELETE', url(id), { user });

describe('session cache', () => {
  it('stores a session for its owner with the default TTL of an hour', async () => {
    const id = sessionId();
    const before = Date.now();
    const response = await put(id, { data: { token: 'abc', roles: ['reader'] } });
    const after = Date.now();
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ sessionId: id, expiresAt: expect.any(String) });
    // An hour from some moment during the request (however slow the machine).
    const expiresAt = Date.parse(response.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 3600_000);
    expect(await get(id)).toMatchObject({
      status: 200,
      body: { sessionId: id, data: { token: 'abc', roles: ['reader'] }, expiresAt: response.body.expiresAt },
    });
  });

  it('uses the requested TTL', async () => {
    const id = sessionId();
    const before = Date.now();
    const response = await put(id, { data: {}, ttlSeconds: 60 });
    expect(Date.parse(response.body.expiresAt)).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(Date.parse(response.body.expiresAt)).toBeGreaterThanOrEqual(before + 60_000);
  });

  it('lets the owner replace and delete it; a deleted session is gone (404)', async () => {
    const id = sessionId();
    await put(id, { data: { v: 1 } });
    await put(id, { data: { v: 2 } });
    expect((await get(id)).body.data).toEqual({ v: 2 });
    expect((await del(id)).status).toBe(204);
    expect((await get(id)).status).toBe(404);
    expect((await del(id)).status).toBe(404);
  });

  it('lets the owner start a new session under an id it deleted', async () => {
    const id = sessionId();
    await put(id, { data: { v: 1 } });
    await del(id);
    expect((await put(id, { data: { v: 2 } })).status).toBe(200);
    expect((await get(id)).body.data).toEqual({ v: 2 });
  });

  it('answers 404 to everyone else for GET, PUT and DELETE, changing nothing', async () => {
    const id = sessionId();
    await put(id, { data: { secret: 's3' } }, 'alice');
    for (const response of [await get(id, 'mallory'), await put(id, { data: { mine: true } }, 'mallory'), await del(id, 'mallory')]) {
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    expect((await call('GET', url(id), { user: 'ops', admin: true })).status).toBe(404);
    expect((await get(id, 'alice')).body.data).toEqual({ secret: 's3' });
  });

  it('answers GET and DELETE on an unknown session exactly as on someone else’s', async () => {
    const foreignId = sessionId();
    await put(foreignId, { data: {} }, 'bob');
    for (const method of ['GET', 'DELETE'] as const) {
      const unknown = await call(method, url(sessionId()), { user: 'alice' });
      const foreign = await call(method, url(foreignId), { user: 'alice' });
      expect(unknown.status).toBe(404);
      expect(foreign.status).toBe(404);
      expect(foreign.body.error).toEqual(unknown.body.error);
    }
  });

  it('answers 401 without identity', async () => {
    const id = sessionId();
    expect((await call('PUT', url(id), { body: { data: {} } })).status).toBe(401);
    expect((await call('GET', url(id))).status).toBe(401);
    expect((await call('DELETE', url(id))).status).toBe(401);
  });

  it.each([
    ['a session id under 16 characters', 'short-id', { data: {} }, 'params.sessionId'],
    ['a session id with a colon', 'abcdefghijklmnop:q', { data: {} }, 'params.sessionId'],
    ['a TTL under 60 seconds', 'sess-valid-0000001', { data: {}, ttlSeconds: 59 }, 'body.ttlSeconds'],
    ['a TTL over a day', 'sess-valid-0000002', { data: {}, ttlSeconds: 86_401 }, 'body.ttlSeconds'],
    ['data that is not an object', 'sess-valid-0000003', { data: 'token' }, 'body.data'],
    ['no data', 'sess-valid-0000004', {}, 'body.data'],
    ['sliding that is not a boolean', 'sess-valid-0000005', { data: {}, sliding: 'yes' }, 'body.sliding'],
  ])('rejects %s with 400', async (_what, id, body, path) => {
    const response = await call('PUT', `${stack.api}/sessions/${encodeURIComponent(id)}`, { user: 'alice', body });
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('rejects data over 64 KiB: 400 naming data when just over, 413 when the body itself is too large', async () => {
    const justOver = await put(sessionId(), { data: { blob: 'x'.repeat(64 * 1024) } });
    expect(justOver.status).toBe(400);
    expect(justOver.body.error.details[0].path).toBe('body.data');
    const wayOver = await put(sessionId(), { data: { blob: 'x'.repeat(200 * 1024) } });
    expect(wayOver.status).toBe(413);
  });
});
