import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type CallOptions } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Every route that names a user or a session, called by its owner, another user, an admin
 * (State.Admin) and nobody, through real HTTP on the local runtime. Per docs/http-api.md:
 * nobody → 401; a user route of someone else → 403 unless admin; a session of someone else → 404
 * (admin included: sessions belong to their owner alone, and a stranger learns nothing). A refused
 * call changes nothing: what the owner reads before and after is the same.
 */
type Caller = 'owner' | 'other' | 'admin' | 'none';
type Seed = 'message' | 'chatSession' | 'profile' | 'task' | 'session';

interface Row {
  method: string;
  /** As the host lists it, without the `api/` prefix. */
  route: string;
  body?: unknown;
  seeds: Seed[];
  /** The owner's answer; also the admin's on user routes. */
  ok: number;
  /** What the owner reads to see whether a refused call changed anything. */
  reads: string[];
}

const rows: Row[] = [
  {
    method: 'POST',
    route: 'users/{userId}/chat/messages',
    body: { role: 'user', content: 'hi' },
    seeds: ['message'],
    ok: 201,
    reads: ['users/{userId}/chat/messages'],
  },
  { method: 'GET', route: 'users/{userId}/chat/messages', seeds: ['message'], ok: 200, reads: [] },
  { method: 'DELETE', route: 'users/{userId}/chat/messages', seeds: ['message'], ok: 204, reads: ['users/{userId}/chat/messages'] },
  {
    method: 'PUT',
    route: 'users/{userId}/chat/session',
    body: { topic: 'new' },
    seeds: ['chatSession'],
    ok: 200,
    reads: ['users/{userId}/chat/session'],
  },
  { method: 'GET', route: 'users/{userId}/chat/session', seeds: ['chatSession'], ok: 200, reads: [] },
  { method: 'DELETE', route: 'users/{userId}/chat/session', seeds: ['chatSession'], ok: 204, reads: ['users/{userId}/chat/session'] },
  { method: 'GET', route: 'users/{userId}/tasks', seeds: ['task'], ok: 200, reads: [] },
  { method: 'POST', route: 'users/{userId}/tasks', body: { title: 'new' }, seeds: ['task'], ok: 201, reads: ['users/{userId}/tasks'] },
  {
    method: 'PATCH',
    route: 'users/{userId}/tasks/{taskId}',
    body: { completed: true },
    seeds: ['task'],
    ok: 200,
    reads: ['users/{userId}/tasks'],
  },
  { method: 'DELETE', route: 'users/{userId}/tasks/{taskId}', seeds: ['task'], ok: 204, reads: ['users/{userId}/tasks'] },
  { method: 'GET', route: 'users/{userId}/profile', seeds: ['profile'], ok: 200, reads: [] },
  {
    method: 'PUT',
    route: 'users/{userId}/profile',
    body: { displayName: 'New' },
    seeds: ['profile'],
    ok: 200,
    reads: ['users/{userId}/profile'],
  },
  {
    method: 'POST',
    route: 'users/{userId}/chat/process',
    body: { message: 'add a task' },
    seeds: ['message'],
    ok: 200,
    reads: ['users/{userId}/chat/workflow', 'users/{userId}/chat/messages'],
  },
  { method: 'GET', route: 'users/{userId}/chat/workflow', seeds: [], ok: 200, reads: [] },
  {
    method: 'PUT',
    route: 'sessions/{sessionId}',
    body: { data: { theirs: true } },
    seeds: ['session'],
    ok: 200,
    reads: ['sessions/{sessionId}'],
  },
  { method: 'GET', route: 'sessions/{sessionId}', seeds: ['session'], ok: 200, reads: [] },
  { method: 'DELETE', route: 'sessions/{sessionId}', seeds: ['session'], ok: 204, reads: ['sessions/{sessionId}'] },
];

const callers: Caller[] = ['owner', 'other', 'admin', 'none'];

function expected(row: Row, caller: Caller): number {
  if (caller === 'none') return 401;
  if (caller === 'owner') return row.ok;
  if (row.route.startsWith('sessions/')) return 404;
  return caller === 'admin' ? row.ok : 403;
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

interface World {
  userId: string;
  taskId: string;
  sessionId: string;
}

const as = (userId: string): CallOptions => ({ user: userId });

async function seed(world: World, seeds: Seed[]): Promise<void> {
  const api = stack.api;
  const user = world.userId;
  for (const what of seeds) {
    const seeded =
      what === 'message'
        ? await call('POST', `${api}/users/${user}/chat/messages`, { ...as(user), body: { role: 'user', content: 'seed' } })
        : what === 'chatSession'
          ? await call('PUT', `${api}/users/${user}/chat/session`, { ...as(user), body: { topic: 'seed' } })
          : what === 'profile'
            ? await call('PUT', `${api}/users/${user}/profile`, { ...as(user), body: { displayName: 'Seed' } })
            : what === 'task'
              ? await call('POST', `${api}/users/${user}/tasks`, { ...as(user), body: { title: 'seed' } })
              : await call('PUT', `${api}/sessions/${world.sessionId}`, { ...as(user), body: { data: { seed: true } } });
    expect(seeded.status, `seeding ${what}`).toBeLessThan(300);
    if (what === 'task') world.taskId = seeded.body.task.id;
  }
}

const fill = (template: string, world: World): string =>
  `${stack.api}/${template.replace('{userId}', world.userId).replace('{taskId}', world.taskId).replace('{sessionId}', world.sessionId)}`;

async function ownerReads(row: Row, world: World): Promise<unknown[]> {
  return Promise.all(
    row.reads.map(async (template) => {
      const { status, body } = await call('GET', fill(template, world), as(world.userId));
      return { status, body };
    }),
  );
}

function callerOptions(caller: Caller, world: World): CallOptions {
  if (caller === 'owner') return as(world.userId);
  if (caller === 'other') return { user: uniqueId('other') };
  if (caller === 'admin') return { user: uniqueId('admin'), admin: true };
  return {};
}

describe('cross-user matrix', () => {
  it('has a row for every route naming a user or a session, and nothing else', () => {
    const served = stack.host.functions
      .filter((f) => /\{(userId|sessionId)\}/.test(f.route))
      .flatMap((f) => f.methods.map((m) => `${m} ${f.route.replace(/^api\//, '')}`))
      .sort();
    expect(rows.map((r) => `${r.method} ${r.route}`).sort()).toEqual(served);
  });

  const cases = rows.flatMap((row) => callers.map((caller) => ({ row, caller, status: expected(row, caller) })));

  it.each(cases)('$row.method $row.route as $caller → $status', async ({ row, caller, status }) => {
    const world: World = { userId: uniqueId('owner'), taskId: 'no-task', sessionId: uniqueId('session-matrix') };
    await seed(world, row.seeds);
    const before = await ownerReads(row, world);

    const answer = await call(row.method, fill(row.route, world), {
      ...callerOptions(caller, world),
      ...(row.body ? { body: row.body } : {}),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    if (status >= 400) {
      expect(answer.body?.error?.code).toBe({ 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' }[status]);
      expect(await ownerReads(row, world)).toEqual(before);
    }
  });
});
