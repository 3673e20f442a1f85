import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_GRACE_SECONDS } from '../../shared/chat/chat-history-service.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

const MAX = 5;
const TTL = 120;
let clock = Date.now();
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ CHAT_HISTORY_MAX_MESSAGES: String(MAX), CHAT_HISTORY_TTL_SECONDS: String(TTL) }, { now: () => clock });
});

afterAll(async () => {
  await stack.close();
});

const messagesUrl = (userId: string) => `${stack.api}/users/${userId}/chat/messages`;
const append = (userId: string, body: unknown, as = userId) => call('POST', messagesUrl(userId), { user: as, body });
const history = (userId: string, query = '', as = userId) => call('GET', `${messagesUrl(userId)}${query}`, { user: as });
const contents = async (userId: string) => (await history(userId, '?limit=50')).body.messages.map((m: { content: string }) => m.content);

async function appendAll(userId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    const { body } = await append(userId, { role: i % 2 ? 'user' : 'assistant', content: `m${i}` });
    ids.push(body.message.id);
  }
  return ids;
}

describe('POST /api/users/{userId}/chat/messages', () => {
  it('appends a message, assigning id and timestamp, and answers 201 with the count', async () => {
    const user = uniqueId('u');
    const before = Date.now();
    const response = await append(user, { role: 'user', content: 'hello there' });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      message: { id: expect.stringMatching(/^[A-Za-z0-9_-]{1,128}$/), role: 'user', content: 'hello there', timestamp: expect.any(String) },
      count: 1,
    });
    expect(Date.parse(response.body.message.timestamp)).toBeGreaterThanOrEqual(before - 1000);
    expect(response.headers.get('x-correlation-id')).toBeTruthy();
    expect((await history(user)).body).toEqual({ messages: [response.body.message], hasMore: false });
  });

  it('keeps a client-chosen id and metadata', async () => {
    const user = uniqueId('u');
    const response = await append(user, { role: 'assistant', content: 'hi', id: 'msg-001', metadata: { model: 'gpt', tokens: 12 } });
    expect(response.body.message).toMatchObject({ id: 'msg-001', metadata: { model: 'gpt', tokens: 12 } });
    expect((await history(user)).body.messages[0]).toEqual(response.body.message);
  });

  it('answers a retried id with 200 and the stored message, storing one copy', async () => {
    const user = uniqueId('u');
    const first = await append(user, { role: 'user', content: 'once', id: 'retry-1' });
    const again = await append(user, { role: 'user', content: 'once, resent', id: 'retry-1' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ message: first.body.message, count: 1 });
    expect(await contents(user)).toEqual(['once']);
  });

  it(`keeps exactly the newest ${MAX} messages, in order`, async () => {
    const user = uniqueId('u');
    await appendAll(user, MAX + 3);
    expect(await contents(user)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8']);
    expect((await append(user, { role: 'user', content: 'm9' })).body.count).toBe(MAX);
  });

  it('restarts the store TTL on every append, and the store drops the history after it', async () => {
    // The store keeps the key HISTORY_GRACE_SECONDS longer than the history's own expiry, which
    // the service-level tests check on the app's clock.
    const user = uniqueId('u');
    const storeTtl = TTL + HISTORY_GRACE_SECONDS;
    await append(user, { role: 'user', content: 'a' });
    clock += (storeTtl - 20) * 1000;
    await append(user, { role: 'user', content: 'b' });
    clock += (storeTtl - 20) * 1000;
    expect(await contents(user)).toEqual(['a', 'b']);
    clock += 21 * 1000;
    expect((await history(user)).body).toEqual({ messages: [], hasMore: false });
  });
});

describe('GET /api/users/{userId}/chat/messages', () => {
  it('answers an empty page when there is no history', async () => {
    expect(await history(uniqueId('u'))).toMatchObject({ status: 200, body: { messages: [], hasMore: false } });
  });

  it('returns the newest `limit` messages oldest-first, and pages backwards over the whole window exactly once', async () => {
    const user = uniqueId('u');
    const ids = await appendAll(user, MAX);
    const first = await history(user, '?limit=2');
    expect(first.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(3, 5));
    expect(first.body).toMatchObject({ hasMore: true, nextBefore: ids[3] });

    const seen: string[] = [];
    let query = '?limit=2';
    for (;;) {
      const page = (await history(user, query)).body;
      seen.unshift(...page.messages.map((m: { id: string }) => m.id));
      if (!page.hasMore) {
        expect(page.nextBefore).toBeUndefined();
        break;
      }
      query = `?limit=2&before=${page.nextBefore}`;
    }
    expect(seen).toEqual(ids);
  });

  it('says hasMore: false when the page reaches the oldest message exactly', async () => {
    const user = uniqueId('u');
    const ids = await appendAll(user, 4);
    expect((await history(user, `?limit=3&before=${ids[3]}`)).body).toMatchObject({ hasMore: false });
    expect((await history(user, '?limit=4')).body.hasMore).toBe(false);
  });

  it('rejects a cursor that names no message with 400 unknown_cursor', async () => {
    const user = uniqueId('u');
    await appendAll(user, 2);
    const response = await history(user, '?before=not-a-message');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('unknown_cursor');
  });

  it.each(['?limit=0', '?limit=51', '?limit=two', '?limit=1.5', '?before=a:b'])('rejects %s with 400 validation_failed', async (query) => {
    const response = await history(uniqueId('u'), query);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
    expect(response.body.error.details[0].path).toMatch(/^query\./);
  });
});

describe('DELETE /api/users/{userId}/chat/messages', () => {
  it('clears the history, and answers 204 when there was nothing', async () => {
    const user = uniqueId('u');
    await appendAll(user, 2);
    expect((await call('DELETE', messagesUrl(user), { user })).status).toBe(204);
    expect((await history(user)).body).toEqual({ messages: [], hasMore: false });
    expect((await call('DELETE', messagesUrl(user), { user })).status).toBe(204);
  });

  it('lets a new history start after a clear', async () => {
    const user = uniqueId('u');
    await appendAll(user, 2);
    await call('DELETE', messagesUrl(user), { user });
    expect((await append(user, { role: 'user', content: 'fresh' })).body.count).toBe(1);
  });
});

describe('chat history input validation', () => {
  it.each([
    ['an unknown role', { role: 'robot', content: 'x' }, 'body.role'],
    ['empty content', { role: 'user', content: '' }, 'body.content'],
    ['content over 16000 characters', { role: 'user', content: 'x'.repeat(16_001) }, 'body.content'],
    ['an id with a colon', { role: 'user', content: 'x', id: 'a:b' }, 'body.id'],
    ['an over-long id', { role: 'user', content: 'x', id: 'a'.repeat(129) }, 'body.id'],
    ['metadata that is an array', { role: 'user', content: 'x', metadata: [1, 2] }, 'body.metadata'],
    ['metadata that is a string', { role: 'user', content: 'x', metadata: 'note' }, 'body.metadata'],
    ['metadata over 4 KiB', { role: 'user', content: 'x', metadata: { blob: 'x'.repeat(4100) } }, 'body.metadata'],
    ['an unknown field', { role: 'user', content: 'x', colour: 'red' }, 'body'],
  ])('rejects %s with 400 and changes nothing', async (_what, body, path) => {
    const user = uniqueId('u');
    await append(user, { role: 'user', content: 'kept' });
    const response = await append(user, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
    expect(response.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect(await contents(user)).toEqual(['kept']);
  });

  it('accepts content of exactly 16000 characters', async () => {
    expect((await append(uniqueId('u'), { role: 'user', content: 'x'.repeat(16_000) })).status).toBe(201);
  });

  it('rejects a body over 256 KiB with 413, malformed JSON with 400 and another media type with 415', async () => {
    const user = uniqueId('u');
    const big = await append(user, { role: 'user', content: 'x', metadata: { pad: 'x'.repeat(300 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    expect((await append(user, '{"role":')).body.error.code).toBe('invalid_json');
    const text = await call('POST', messagesUrl(user), { user, body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect((await history(user)).body.messages).toEqual([]);
  });

  it('rejects a user id that is not a valid id with 400', async () => {
    const response = await call('GET', `${stack.api}/users/${encodeURIComponent('a:b')}/chat/messages`, { user: 'a-b' });
    expect(response.status).toBe(400);
    expect(response.body.error.details[0].path).toBe('params.userId');
  });
});

describe('chat history authorization', () => {
  it('answers 401 without an identity', async () => {
    const response = await call('GET', messagesUrl(uniqueId('u')));
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthenticated');
  });

  it("answers 403 for another user's history, and writes nothing", async () => {
    const owner = uniqueId('u');
    expect((await append(owner, { role: 'user', content: 'mine' }, 'mallory')).status).toBe(403);
    expect((await history(owner, '', 'mallory')).status).toBe(403);
    expect((await call('DELETE', messagesUrl(owner), { user: 'mallory' })).status).toBe(403);
    expect((await history(owner)).body.messages).toEqual([]);
  });

  it('lets an admin act for any user', async () => {
    const owner = uniqueId('u');
    const response = await call('POST', messagesUrl(owner), { user: 'ops', admin: true, body: { role: 'system', content: 'notice' } });
    expect(response.status).toBe(201);
    expect(await contents(owner)).toEqual(['notice']);
  });
});

describe('a stored history that does not parse', () => {
  it('is reported as a 500 that leaks nothing, and never overwritten', async () => {
    const user = uniqueId('u');
    const key = `chat:history:${user}`;
    const corrupt = { v: 99, messages: 'not a list' };
    const saved = await fetch(`${stack.sidecar.url}/v1.0/state/statestore`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key, value: corrupt }]),
    });
    expect(saved.status).toBe(204);
    const response = await append(user, { role: 'user', content: 'x' });
    expect(response.status).toBe(500);
    expect(response.body).toEqual({
      error: { code: 'internal', message: 'An internal error occurred.' },
      correlationId: response.headers.get('x-correlation-id'),
    });
    expect((await history(user)).status).toBe(500);
    const raw = await fetch(`${stack.sidecar.url}/v1.0/state/statestore/${encodeURIComponent(key)}`);
    expect(await raw.json()).toEqual(corrupt);
  });
});
