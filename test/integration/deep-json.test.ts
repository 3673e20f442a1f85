import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

/** ~10 KB of JSON nesting 5,000 levels deep. */
const deepSession = `{"s":${'['.repeat(5000)}${']'.repeat(5000)}}`;

describe('deeply nested request bodies', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ STATE_BREAKER_THRESHOLD: '2', STATE_BREAKER_HALF_OPEN_MS: '60000' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('refuses five 5,000-level chat sessions with 400, and other users keep being served', async () => {
    const attacker = uniqueId('u');
    for (let i = 0; i < 5; i += 1) {
      const response = await call('PUT', `${stack.api}/users/${attacker}/chat/session`, { user: attacker, body: deepSession });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'body' }] });
    }
    expect((await call('GET', `${stack.api}/health`)).status).toBe(200);
    const other = uniqueId('u');
    const saved = await call('PUT', `${stack.api}/users/${other}/chat/session`, { user: other, body: { step: 1 } });
    expect(saved.status).toBe(200);
    expect((await call('GET', `${stack.api}/users/${other}/chat/session`, { user: other })).body.session).toEqual({ step: 1 });
    expect((await call('GET', `${stack.api}/users/${attacker}/chat/session`, { user: attacker })).status).toBe(404);
  });

  it('refuses deep chat message metadata with 400, not 500', async () => {
    const user = uniqueId('u');
    const body = `{"role":"user","content":"hi","metadata":{"m":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`;
    const response = await call('POST', `${stack.api}/users/${user}/chat/messages`, { user, body });
    expect(response.status).toBe(400);
    expect((await call('GET', `${stack.api}/users/${user}/chat/messages`, { user })).body.messages).toEqual([]);
  });
});
