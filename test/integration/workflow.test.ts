import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replies } from '../../shared/workflow/conversation.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

const say = (userId: string, message: unknown, as = userId) =>
  call('POST', `${stack.api}/users/${userId}/chat/process`, { user: as, body: { message } });
const status = (userId: string) => call('GET', `${stack.api}/users/${userId}/chat/workflow`, { user: userId });
const tasksOf = async (userId: string) => (await call('GET', `${stack.api}/users/${userId}/tasks`, { user: userId })).body.tasks;
const historyOf = async (userId: string) =>
  (await call('GET', `${stack.api}/users/${userId}/chat/messages?limit=50`, { user: userId })).body.messages.map(
    (m: { role: string; content: string }) => `${m.role}: ${m.content}`,
  );

describe('POST /api/users/{userId}/chat/process', () => {
  it('walks a whole conversation that creates a task', async () => {
    const user = uniqueId('u');
    expect((await status(user)).body).toEqual({ state: 'idle' });

    const start = await say(user, 'Please add a task');
    expect(start.status).toBe(200);
    expect(start.body).toEqual({ reply: replies.askTitle, state: 'awaiting_title' });
    expect((await status(user)).body).toEqual({ state: 'awaiting_title', expiresAt: expect.any(String) });

    const titled = await say(user, 'Buy milk');
    expect(titled.body).toEqual({ reply: replies.askDescription('Buy milk'), state: 'awaiting_description' });
    expect((await status(user)).body).toMatchObject({ state: 'awaiting_description', title: 'Buy milk' });

    const done = await say(user, 'Two litres');
    expect(done.body).toEqual({
      reply: replies.created('Buy milk'),
      state: 'idle',
      task: expect.objectContaining({ title: 'Buy milk', description: 'Two litres', completed: false, version: 1 }),
    });
    expect(await tasksOf(user)).toEqual([done.body.task]);
    expect((await status(user)).body).toEqual({ state: 'idle' });
  });

  it('records both sides of the conversation in the chat history', async () => {
    const user = uniqueId('u');
    await say(user, 'hello');
    await say(user, 'add a task');
    await say(user, 'Call mum');
    await say(user, 'none');
    expect(await historyOf(user)).toEqual([
      'user: hello',
      `assistant: ${replies.help}`,
      'user: add a task',
      `assistant: ${replies.askTitle}`,
      'user: Call mum',
      `assistant: ${replies.askDescription('Call mum')}`,
      'user: none',
      `assistant: ${replies.created('Call mum')}`,
    ]);
  });

  it('re-prompts on an invalid title and then goes on', async () => {
    const user = uniqueId('u');
    await say(user, 'new task');
    const bad = await say(user, 'x'.repeat(201));
    expect(bad.body).toEqual({ reply: replies.badTitle, state: 'awaiting_title' });
    expect((await say(user, 'Short title')).body.state).toBe('awaiting_description');
  });

  it.each([
    ['awaiting a title', ['add a task']],
    ['awaiting a description', ['add a task', 'A title']],
  ])('cancels while %s, creating nothing', async (_when, messages) => {
    const user = uniqueId('u');
    for (const message of messages) await say(user, message);
    const cancelled = await say(user, 'cancel');
    expect(cancelled.body).toEqual({ reply: replies.cancelled, state: 'idle' });
    expect(await tasksOf(user)).toEqual([]);
    expect((await status(user)).body).toEqual({ state: 'idle' });
  });

  it('answers a retried final message with the same task and never makes two', async () => {
    const user = uniqueId('u');
    await say(user, 'add a task');
    await say(user, 'Pay rent');
    const first = await say(user, 'before Friday');
    const retried = await say(user, 'before Friday');
    expect(retried.body).toEqual(first.body);
    expect(await tasksOf(user)).toHaveLength(1);
    expect((await historyOf(user)).filter((line: string) => line === 'user: before Friday')).toHaveLength(1);
  });

  it('never lets two concurrent messages both advance the same step', async () => {
    const user = uniqueId('u');
    await say(user, 'add a task');
    const results = await Promise.all([say(user, 'Title A'), say(user, 'Title B')]);
    // Either one wins and the other gets 409, or they happened to run one after the other, in
    // which case the second was applied to the next step. Never both as the title.
    const asTitle = results.filter((r) => r.status === 200 && r.body.state === 'awaiting_description');
    expect(asTitle).toHaveLength(1);
    for (const other of results.filter((r) => !asTitle.includes(r))) {
      if (other.status === 409) expect(other.body.error.code).toBe('conflict');
      else expect(other.body).toMatchObject({ state: 'idle', task: expect.any(Object) });
    }
  });

  it('creates one task when the final message is sent twice at once', async () => {
    const user = uniqueId('u');
    await say(user, 'add a task');
    await say(user, 'Once only');
    const results = await Promise.all([say(user, 'desc'), say(user, 'desc')]);
    expect(results.map((r) => r.status)).toContain(200);
    expect(await tasksOf(user)).toHaveLength(1);
  });

  it.each([
    ['an empty message', { message: '' }],
    ['a message over 4000 characters', { message: 'x'.repeat(4001) }],
    ['no message', {}],
  ])('rejects %s with 400 and changes nothing', async (_what, body) => {
    const user = uniqueId('u');
    const response = await call('POST', `${stack.api}/users/${user}/chat/process`, { user, body });
    expect(response.status).toBe(400);
    expect((await status(user)).body).toEqual({ state: 'idle' });
  });

  it('answers 401 without identity and 403 for another user', async () => {
    const owner = uniqueId('u');
    expect((await call('POST', `${stack.api}/users/${owner}/chat/process`, { body: { message: 'hi' } })).status).toBe(401);
    expect((await say(owner, 'add a task', 'mallory')).status).toBe(403);
    expect((await call('GET', `${stack.api}/users/${owner}/chat/workflow`, { user: 'mallory' })).status).toBe(403);
  });
});
