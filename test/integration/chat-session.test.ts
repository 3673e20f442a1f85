import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

const TTL = 60;
let clock = Date.now();
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ CHAT_SESSION_TTL_SECONDS: String(TTL) }, { now: () => clock });
});

afterAll(async () => {
  await stack.close();
});

const sessionUrl = (userId: string) => `${stack.api}/users/${userId}/chat/session`;

describe('chat session', () => {
  it('stores a session and reads it back with its expiry', async () => {
    const user = uniqueId('u');
    const session = { topic: 'billing', turn: 3, context: { lang: 'en' } };
    const before = Date.now();
    const put = await call('PUT', sessionUrl(user), { user, body: session });
    const after = Date.now();
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ session, expiresAt: expect.any(String) });
    // The expiry is the TTL from some moment during the request (however slow the machine).
    const expiresAt = Date.parse(put.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + TTL * 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + TTL * 1000);
    expect(await call('GET', sessionUrl(user), { user })).toMatchObject({ status: 200, body: put.body });
  });

  it('replaces the whole session on PUT', async () => {
    const user = uniqueId('u');
    await call('PUT', sessionUrl(user), { user, body: { a: 1, b: 2 } });
    await call('PUT', sessionUrl(user), { user, body: { c: 3 } });
    expect((await call('GET', sessionUrl(user), { user })).body.session).toEqual({ c: 3 });
  });

  it('answers 404 when there is no session', async () => {
    const user = uniqueId('u');
    const response = await call('GET', sessionUrl(user), { user });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('deletes a session, and answers 204 when there was none', async () => {
    const user = uniqueId('u');
    await call('PUT', sessionUrl(user), { user, body: { a: 1 } });
    expect((await call('DELETE', sessionUrl(user), { user })).status).toBe(204);
    expect((await call('GET', sessionUrl(user), { user })).status).toBe(404);
    expect((await call('DELETE', sessionUrl(user), { user })).status).toBe(204);
  });

  it('expires after its TTL, which a PUT restarts', async () => {
    const user = uniqueId('u');
    await call('PUT', sessionUrl(user), { user, body: { step: 1 } });
    clock += (TTL - 10) * 1000;
    await call('PUT', sessionUrl(user), { user, body: { step: 2 } });
    clock += (TTL - 10) * 1000;
    expect((await call('GET', sessionUrl(user), { user })).body.session).toEqual({ step: 2 });
    clock += 11 * 1000;
    expect((await call('GET', sessionUrl(user), { user })).status).toBe(404);
  });

  it.each([
    ['an array', [1, 2, 3]],
    ['a string', '"hello"'],
    ['null', 'null'],
  ])('rejects a session that is %s with 400', async (_what, body) => {
    const user = uniqueId('u');
    const response = await call('PUT', sessionUrl(user), { user, body });
    expect(response.status).toBe(400);
    expect((await call('GET', sessionUrl(user), { user })).status).toBe(404);
  });

  it('rejects a session over 64 KiB with 413 and keeps the old one', async () => {
    const user = uniqueId('u');
    await call('PUT', sessionUrl(user), { user, body: { keep: true } });
    const response = await call('PUT', sessionUrl(user), { user, body: { pad: 'x'.repeat(64 * 1024) } });
    expect(response.status).toBe(413);
    expect((await call('GET', sessionUrl(user), { user })).body.session).toEqual({ keep: true });
  });

  it('answers 401 without identity, 403 for another user, and lets an admin in', async () => {
    const owner = uniqueId('u');
    await call('PUT', sessionUrl(owner), { user: owner, body: { secret: 'x' } });
    expect((await call('GET', sessionUrl(owner))).status).toBe(401);
    expect((await call('GET', sessionUrl(owner), { user: 'mallory' })).status).toBe(403);
    expect((await call('PUT', sessionUrl(owner), { user: 'mallory', body: {} })).status).toBe(403);
    expect((await call('DELETE', sessionUrl(owner), { user: 'mallory' })).status).toBe(403);
    expect((await call('GET', sessionUrl(owner), { user: 'ops', admin: true })).body.session).toEqual({ secret: 'x' });
  });
});

describe('chat routes while the state store is unreachable', () => {
  it('answer 503 with Retry-After and a body that names nothing internal', async () => {
    const user = uniqueId('u');
    await stack.sidecar.close();
    for (const response of [
      await call('POST', `${stack.api}/users/${user}/chat/messages`, { user, body: { role: 'user', content: 'x' } }),
      await call('GET', `${stack.api}/users/${user}/chat/messages`, { user }),
      await call('PUT', sessionUrl(user), { user, body: { a: 1 } }),
    ]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(response.body).toEqual({
        error: { code: 'unavailable', message: 'A backing service is unavailable. Retry later.' },
        correlationId: response.headers.get('x-correlation-id'),
      });
    }
  });
});
