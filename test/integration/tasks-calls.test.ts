import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { taskCacheKey } from '../../shared/tasks/tasks-service.js';
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

const tasksUrl = (userId: string) => `${stack.api}/users/${userId}/tasks`;
const list = (userId: string) => call('GET', tasksUrl(userId), { user: userId });
const create = (userId: string, body: unknown, headers: Record<string, string> = {}) =>
  call('POST', tasksUrl(userId), { user: userId, body, headers });
const journal = () => stack.sidecar.journal;
/** Sidecar state calls made by `action`, by operation and store. */
async function callsOf(action: () => Promise<unknown>): Promise<Record<string, number>> {
  journal().reset();
  await action();
  const counts = journal().counts();
  return Object.fromEntries(Object.entries(counts).filter(([name]) => !name.startsWith('metadata') && !name.startsWith('healthz')));
}

describe('sidecar round trips per task operation (the stand-in’s call journal)', () => {
  beforeEach(async () => {
    await list(uniqueId('warm')); // the SDK's first-call metadata probe is behind us
  });

  it('answers a HIT with one call: the cache read', async () => {
    const user = uniqueId('u');
    await create(user, { title: 'a' });
    let response: Awaited<ReturnType<typeof list>> | undefined;
    expect(await callsOf(async () => (response = await list(user)))).toEqual({ 'bulk:statestore': 1 });
    expect(response?.headers.get('x-cache')).toBe('HIT');
  });

  it('answers a MISS with three calls: cache read, durable read, cache write (no second cache read)', async () => {
    const user = uniqueId('u');
    await create(user, { title: 'a' });
    const evict = await fetch(`${stack.sidecar.url}/v1.0/state/statestore/${taskCacheKey(user)}`, { method: 'DELETE' });
    expect(evict.status).toBe(204);
    let response: Awaited<ReturnType<typeof list>> | undefined;
    expect(await callsOf(async () => (response = await list(user)))).toEqual({
      'bulk:statestore': 1,
      'bulk:statestore-durable': 1,
      'save:statestore': 1,
    });
    expect(response?.headers.get('x-cache')).toBe('MISS');
    expect(await callsOf(() => list(user))).toEqual({ 'bulk:statestore': 1 });
  });

  it('creates with four calls (durable read and write, cache read and write-through), then GET is a HIT', async () => {
    const user = uniqueId('u');
    expect(await callsOf(() => create(user, { title: 'a' }))).toEqual({
      'bulk:statestore-durable': 1,
      'save:statestore-durable': 1,
      'bulk:statestore': 1,
      'save:statestore': 1,
    });
    expect(await callsOf(() => list(user))).toEqual({ 'bulk:statestore': 1 });
  });

  it('adds three record calls for an Idempotency-Key, and replays with one lookup and one refused create', async () => {
    const user = uniqueId('u');
    const key = { 'idempotency-key': uniqueId('key') };
    expect(await callsOf(() => create(user, { title: 'a' }, key))).toEqual({
      'bulk:statestore-durable': 1,
      'save:statestore-durable': 1,
      'bulk:statestore': 2,
      'save:statestore': 3,
    });
    expect(await callsOf(() => create(user, { title: 'a' }, key))).toEqual({ 'save:statestore': 1, 'bulk:statestore': 1 });
  });
});
