import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_GRACE_SECONDS } from '../../shared/cache/versioned-cache.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { outageSwitch } from '../support/outage.js';
import { startStack, type Stack } from '../support/stack.js';

const CACHE_TTL = 300;
let clock = Date.now();
let stack: Stack;
const outage = outageSwitch();

beforeAll(async () => {
  stack = await startStack(
    { TASK_CACHE_TTL_SECONDS: String(CACHE_TTL), STATE_BREAKER_THRESHOLD: '1000' },
    { now: () => clock, createBackend: outage.createBackend },
  );
});

afterAll(async () => {
  await stack.close();
});

afterEach(() => {
  outage.bringBack('statestore');
  outage.bringBack('statestore-durable');
});

const tasksUrl = (userId: string) => `${stack.api}/users/${userId}/tasks`;
const list = (userId: string, as = userId) => call('GET', tasksUrl(userId), { user: as });
const create = (userId: string, body: unknown, as = userId) => call('POST', tasksUrl(userId), { user: as, body });
const patch = (userId: string, taskId: string, body: unknown, headers: Record<string, string> = {}) =>
  call('PATCH', `${tasksUrl(userId)}/${taskId}`, { user: userId, body, headers });
const remove = (userId: string, taskId: string) => call('DELETE', `${tasksUrl(userId)}/${taskId}`, { user: userId });

describe('POST /api/users/{userId}/tasks', () => {
  it('creates a task and answers 201 with it, its location and its version', async () => {
    const user = uniqueId('u');
    const response = await create(user, { title: 'Buy milk', description: '2 litres' });
    expect(response.status).toBe(201);
    expect(response.body.task).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
      title: 'Buy milk',
      description: '2 litres',
      completed: false,
      createdAt: expect.any(String),
      updatedAt: response.body.task.createdAt,
      version: 1,
    });
    expect(response.headers.get('location')).toBe(`/api/users/${user}/tasks/${response.body.task.id}`);
    expect(response.headers.get('etag')).toBe('"1"');
  });

  it('keeps all 20 of 20 concurrent creates', async () => {
    const user = uniqueId('u');
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => create(user, { title: `task ${i}` })));
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 201));
    const { body } = await list(user);
    expect(body.tasks.map((t: { title: string }) => t.title).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `task ${i}`).sort());
  });

  it.each([
    ['no title', {}, 'body.title'],
    ['an empty title', { title: '   ' }, 'body.title'],
    ['a title over 200 characters', { title: 'x'.repeat(201) }, 'body.title'],
    ['a description over 2000 characters', { title: 'ok', description: 'x'.repeat(2001) }, 'body.description'],
    ['an unknown field', { title: 'ok', owner: 'someone' }, 'body'],
  ])('rejects %s with 400 and creates nothing', async (_what, body, path) => {
    const user = uniqueId('u');
    const response = await create(user, body);
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect((await list(user)).body.tasks).toEqual([]);
  });
});

describe('GET /api/users/{userId}/tasks', () => {
  it('answers MISS from the durable store, then HIT from the cache, sorted by creation', async () => {
    const user = uniqueId('u');
    const first = await list(user);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ tasks: [] });
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect((await list(user)).headers.get('x-cache')).toBe('HIT');

    const a = (await create(user, { title: 'a' })).body.task;
    clock += 1000;
    const b = (await create(user, { title: 'b' })).body.task;
    const after = await list(user);
    expect(after.headers.get('x-cache')).toBe('HIT');
    expect(after.body.tasks).toEqual([a, b]);
  });

  it('misses again once the cache entry has expired', async () => {
    const user = uniqueId('u');
    await create(user, { title: 'a' });
    expect((await list(user)).headers.get('x-cache')).toBe('HIT');
    clock += (CACHE_TTL + CACHE_GRACE_SECONDS + 1) * 1000;
    const expired = await list(user);
    expect(expired.headers.get('x-cache')).toBe('MISS');
    expect(expired.body.tasks.map((t: { title: string }) => t.title)).toEqual(['a']);
    expect((await list(user)).headers.get('x-cache')).toBe('HIT');
  });

  it('shows every mutation to the next GET (read-your-writes)', async () => {
    const user = uniqueId('u');
    const task = (await create(user, { title: 'one' })).body.task;
    expect((await list(user)).body.tasks).toHaveLength(1);
    await patch(user, task.id, { completed: true });
    expect((await list(user)).body.tasks[0].completed).toBe(true);
    await remove(user, task.id);
    expect((await list(user)).body.tasks).toEqual([]);
  });
});

describe('PATCH /api/users/{userId}/tasks/{taskId}', () => {
  it('changes only the given fields and moves the version on', async () => {
    const user = uniqueId('u');
    const task = (await create(user, { title: 'draft', description: 'keep me' })).body.task;
    clock += 1000;
    const response = await patch(user, task.id, { title: 'final' });
    expect(response.status).toBe(200);
    expect(response.body.task).toEqual({ ...task, title: 'final', version: 2, updatedAt: expect.any(String) });
    expect(response.headers.get('etag')).toBe('"2"');
  });

  it('never loses a field to a concurrent PATCH', async () => {
    const user = uniqueId('u');
    const task = (await create(user, { title: 't' })).body.task;
    const patches = [{ title: 'new title' }, { description: 'new description' }, { completed: true }];
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => patch(user, task.id, patches[i % 3])));
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    const [stored] = (await list(user)).body.tasks;
    expect(stored).toMatchObject({ title: 'new title', description: 'new description', completed: true, version: 13 });
  });

  it('honours If-Match: applies on the current version, 412 on a stale one', async () => {
    const user = uniqueId('u');
    const task = (await create(user, { title: 't' })).body.task;
    expect((await patch(user, task.id, { completed: true }, { 'if-match': '"1"' })).status).toBe(200);
    const stale = await patch(user, task.id, { title: 'lost update' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('precondition_failed');
    expect((await list(user)).body.tasks[0]).toMatchObject({ title: 't', version: 2 });
    expect((await patch(user, task.id, { title: 'any' }, { 'if-match': '*' })).status).toBe(200);
  });

  it('compares If-Match strongly (RFC 9110): a weak tag never matches, a list matches on any member', async () => {
    const user = uniqueId('u');
    const task = (await create(user, { title: 't' })).body.task;
    const weak = await patch(user, task.id, { title: 'weak' }, { 'if-match': 'W/"1"' });
    expect(weak.status).toBe(412);
    expect(weak.body.error.code).toBe('precondition_failed');
    expect((await patch(user, task.id, { title: 'padded' }, { 'if-match': '"01"' })).status).toBe(412);
    expect((await list(user)).body.tasks[0]).toMatchObject({ title: 't', version: 1 });
    const listed = await patch(user, task.id, { title: 'listed' }, { 'if-match': '"7", W/"1", "1"' });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('etag')).toBe('"2"');
  });

  it('answers If-Match: * with 404 for a task that does not exist', async () => {
    const user = uniqueId('u');
    await create(user, { title: 't' });
    const absent = await patch(user, 'no-such-task', { title: 'x' }, { 'if-match': '*' });
    expect(absent.status).toBe(404);
  });

  it('rejects a malformed If-Match with 400', async () => {
    const user = uniqueId('u');
    const task = (await create(user, { title: 't' })).body.task;
    for (const ifMatch of ['yesterday', '1', 'W/1']) {
      const response = await patch(user, task.id, { title: 'x' }, { 'if-match': ifMatch });
      expect(response.status).toBe(400);
      expect(response.body.error.details[0].path).toBe('headers.if-match');
    }
    expect((await list(user)).body.tasks[0].version).toBe(1);
  });

  it('answers 404 for an unknown task and 400 for an empty or invalid patch', async () => {
    const user = uniqueId('u');
    const task = (await create(user, { title: 't' })).body.task;
    expect((await patch(user, 'no-such-task', { title: 'x' })).status).toBe(404);
    expect((await patch(user, task.id, {})).status).toBe(400);
    expect((await patch(user, task.id, { completed: 'yes' })).status).toBe(400);
    expect((await patch(user, 'bad:id', { title: 'x' })).status).toBe(400);
    expect((await list(user)).body.tasks[0].version).toBe(1);
  });
});

describe('DELETE /api/users/{userId}/tasks/{taskId}', () => {
  it('deletes a task, then answers 404 for it', async () => {
    const user = uniqueId('u');
    const task = (await create(user, { title: 't' })).body.task;
    expect((await remove(user, task.id)).status).toBe(204);
    expect((await remove(user, task.id)).status).toBe(404);
  });
});

describe('tasks authorization', () => {
  it('answers 401 without identity and 403 for another user, and lets an admin in', async () => {
    const owner = uniqueId('u');
    await create(owner, { title: 'private' });
    expect((await call('GET', tasksUrl(owner))).status).toBe(401);
    expect((await list(owner, 'mallory')).status).toBe(403);
    expect((await create(owner, { title: 'x' }, 'mallory')).status).toBe(403);
    const admin = await call('GET', tasksUrl(owner), { user: 'ops', admin: true });
    expect(admin.body.tasks.map((t: { title: string }) => t.title)).toEqual(['private']);
  });
});

describe('tasks while a store is down', () => {
  it('answers GET from the durable store with x-cache: BYPASS when the cache store fails', async () => {
    const user = uniqueId('u');
    await create(user, { title: 'survives' });
    outage.takeDown('statestore');
    const response = await list(user);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cache')).toBe('BYPASS');
    expect(response.body.tasks.map((t: { title: string }) => t.title)).toEqual(['survives']);
  });

  it('still accepts mutations when the cache store fails, and shows them as soon as it is back', async () => {
    const user = uniqueId('u');
    await create(user, { title: 'before' });
    expect((await list(user)).headers.get('x-cache')).toBe('HIT');
    outage.takeDown('statestore');
    expect((await create(user, { title: 'during' })).status).toBe(201);
    const task = (await list(user)).body.tasks[0];
    expect((await patch(user, task.id, { completed: true })).status).toBe(200);
    outage.bringBack('statestore');
    // The cache still holds the list from before the outage (the write-through failed); no clock moves.
    const after = await list(user);
    expect(after.body.tasks.map((t: { title: string; completed: boolean }) => [t.title, t.completed])).toEqual([
      ['before', true],
      ['during', false],
    ]);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect((await list(user)).headers.get('x-cache')).toBe('HIT');
  });

  it('answers 503 with Retry-After when the durable store fails', async () => {
    const user = uniqueId('u');
    outage.takeDown('statestore-durable');
    const created = await create(user, { title: 'x' });
    expect(created.status).toBe(503);
    expect(created.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(created.body.error.code).toBe('unavailable');
    expect((await list(user)).status).toBe(503);
  });
});
