import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_MESSAGE_MAX_BYTES } from '../../shared/chat/chat-schemas.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Sidecar round trips per operation, counted by the stand-in's call journal (a single read is a
 * one-key bulk read through the SDK). Requests without an Idempotency-Key.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

/** Runs `request` and answers its status and the state calls it made, by operation and store. */
async function counted(request: () => Promise<{ status: number }>) {
  stack.sidecar.journal.reset();
  const { status } = await request();
  return { status, calls: stack.sidecar.journal.stateCalls(), counts: stack.sidecar.journal.counts() };
}

describe('round trips: chat history', () => {
  const messages = (user: string) => `${stack.api}/users/${user}/chat/messages`;

  it('fetches the history with one read and appends with one read and one write', async () => {
    const user = uniqueId('u');
    await call('POST', messages(user), { user, body: { role: 'user', content: 'first' } });
    const append = await counted(() => call('POST', messages(user), { user, body: { role: 'user', content: 'second' } }));
    expect(append).toMatchObject({ status: 201, calls: 2, counts: { 'bulk:statestore': 1, 'save:statestore': 1 } });
    const fetch = await counted(() => call('GET', `${messages(user)}?limit=50`, { user }));
    expect(fetch).toMatchObject({ status: 200, calls: 1 });
  });

  it('refuses a message over the stored-size cap with 400 before any store call', async () => {
    const user = uniqueId('u');
    const content = '\u0001'.repeat(16_000);
    const refused = await counted(() => call('POST', messages(user), { user, body: { role: 'user', content } }));
    expect(refused).toMatchObject({ status: 400, calls: 0 });
    const { body } = await call('POST', messages(user), { user, body: { role: 'user', content } });
    expect(body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'content' }] });
    expect(body.error.details[0].message).toContain(`${CHAT_MESSAGE_MAX_BYTES / 1024} KiB`);
    expect((await call('GET', messages(user), { user })).body).toEqual({ messages: [], hasMore: false });
  });
});

describe('round trips: sessions', () => {
  it('reads a sliding session with one call when it does not extend it, and a chat session with one', async () => {
    const user = uniqueId('u');
    const id = uniqueId('sess-round-trip');
    expect((await call('PUT', `${stack.api}/sessions/${id}`, { user, body: { data: { a: 1 }, sliding: true } })).status).toBe(200);
    const read = await counted(() => call('GET', `${stack.api}/sessions/${id}`, { user }));
    expect(read).toMatchObject({ status: 200, calls: 1, counts: { 'bulk:statestore': 1 } });

    await call('PUT', `${stack.api}/users/${user}/chat/session`, { user, body: { topic: 'x' } });
    const chatSession = await counted(() => call('GET', `${stack.api}/users/${user}/chat/session`, { user }));
    expect(chatSession).toMatchObject({ status: 200, calls: 1 });
  });
});

describe('round trips: workflow', () => {
  const process = (user: string, message: string) => () =>
    call('POST', `${stack.api}/users/${user}/chat/process`, { user, body: { message } });

  it('spends three calls on a step (one read of workflow and history, one write each) and one append per step', async () => {
    const user = uniqueId('u');
    const start = await counted(process(user, 'add a task'));
    expect(start).toMatchObject({ status: 200, calls: 3, counts: { 'bulk:statestore': 1, 'save:statestore': 2 } });
    const title = await counted(process(user, 'Counted'));
    expect(title).toMatchObject({ status: 200, calls: 3, counts: { 'bulk:statestore': 1, 'save:statestore': 2 } });
    const help = await counted(process(user, 'cancel'));
    expect(help).toMatchObject({ status: 200, calls: 3 });
  });

  it('creates a task with three calls of its own on top of what a task create costs (seven today)', async () => {
    const user = uniqueId('u');
    // What the tasks service spends on a create: durable read and compare-and-set, then the cache
    // write-through (read and compare-and-set) today.
    const plainCreate = await counted(() => call('POST', `${stack.api}/users/${user}/tasks`, { user, body: { title: 'baseline' } }));
    expect(plainCreate.status).toBe(201);
    await process(user, 'add a task')();
    await process(user, 'Seven')();
    const final = await counted(process(user, 'calls'));
    expect(final.status).toBe(200);
    // Workflow: one bulk read (workflow + history), the step save, one history save.
    expect(final.calls - plainCreate.calls).toBe(3);
    expect(final.calls).toBeLessThanOrEqual(7);
  });
});
