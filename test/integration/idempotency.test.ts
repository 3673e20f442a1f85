import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { failure, type SaveOperation, type StateBackend } from '../../dev/sidecar/backend.js';
import { type BackendFactory, memoryBackends } from '../../dev/sidecar/server.js';
import { replies } from '../../shared/workflow/conversation.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';
import { deferred } from '../support/deferred.js';

/**
 * A hook every save to the stand-in passes through (per store), to hold one, fail it like a lost
 * database connection ('fail'), or look at what was sent.
 */
type SaveHook = (store: string, operation: SaveOperation) => Promise<void> | 'fail' | undefined;
let saveHook: SaveHook | undefined;
const hooked: BackendFactory = async (component, context) => {
  const inner: StateBackend = await memoryBackends(component, context);
  return {
    flavour: inner.flavour,
    capabilities: inner.capabilities,
    get: (key, metadata) => inner.get(key, metadata),
    bulkGet: (keys, metadata) => inner.bulkGet(keys, metadata),
    async save(operation) {
      if ((await saveHook?.(component.name, operation)) === 'fail') {
        return failure('store-failure', 'dial tcp 127.0.0.1:5432: connect: connection refused');
      }
      return inner.save(operation);
    },
    delete: (operation) => inner.delete(operation),
    transact: (operations, metadata) => inner.transact(operations, metadata),
    close: () => inner.close(),
  };
};

let stack: Stack;

beforeAll(async () => {
  // A long per-call timeout: a request held on purpose must not time out while the test looks at it.
  stack = await startStack({ DAPR_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '30000' }, { createBackend: hooked });
});

afterAll(async () => {
  await stack.close();
});

afterEach(() => {
  saveHook = undefined;
});

const tasksUrl = (userId: string) => `${stack.api}/users/${userId}/tasks`;
const createTask = (userId: string, body: unknown, key?: string, as = userId) =>
  call('POST', tasksUrl(userId), { user: as, body, headers: key === undefined ? {} : { 'idempotency-key': key } });
const tasksOf = async (userId: string) => (await call('GET', tasksUrl(userId), { user: userId })).body.tasks;

describe('Idempotency-Key on POST /api/users/{userId}/tasks', () => {
  it('answers a retry with the first answer (status, body, location, etag) and stores one task', async () => {
    const user = uniqueId('u');
    const key = uniqueId('key');
    const first = await createTask(user, { title: 'Buy milk' }, key);
    expect(first.status).toBe(201);
    stack.sidecar.journal.reset();
    const retry = await createTask(user, { title: 'Buy milk' }, key);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(retry.headers.get('etag')).toBe('"1"');
    expect(retry.headers.get('x-correlation-id')).not.toBe(first.headers.get('x-correlation-id'));
    // The replay only looked up its record: nothing reached the durable store.
    expect(Object.keys(stack.sidecar.journal.counts()).filter((name) => name.endsWith(':statestore-durable'))).toEqual([]);
    expect(await tasksOf(user)).toEqual([first.body.task]);
  });

  it('answers 422 idempotency_key_reused for the same key with a different body, and changes nothing', async () => {
    const user = uniqueId('u');
    const key = uniqueId('key');
    await createTask(user, { title: 'first' }, key);
    const reused = await createTask(user, { title: 'second' }, key);
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    expect((await tasksOf(user)).map((t: { title: string }) => t.title)).toEqual(['first']);
  });

  it('answers 409 while the first request is still running, then replays the first answer', async () => {
    const user = uniqueId('u');
    const key = uniqueId('key');
    const held = deferred();
    const release = deferred();
    saveHook = async (store, operation) => {
      if (store === 'statestore-durable' && operation.key.includes(user)) {
        held.resolve();
        await release.promise;
      }
    };
    const first = createTask(user, { title: 'slow' }, key);
    await held.promise; // the first holds its record and waits on its durable write
    const concurrent = await createTask(user, { title: 'slow' }, key);
    expect(concurrent.status).toBe(409);
    expect(concurrent.body.error.code).toBe('conflict');
    release.resolve();
    const answered = await first;
    expect(answered.status).toBe(201);
    const retry = await createTask(user, { title: 'slow' }, key);
    expect(retry.body).toEqual(answered.body);
    expect(await tasksOf(user)).toHaveLength(1);
  });

  it('keeps keys per user: another user’s same key creates that user’s own task', async () => {
    const key = uniqueId('key');
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const a = await createTask(alice, { title: 'same' }, key);
    const b = await createTask(bob, { title: 'same' }, key);
    expect(b.status).toBe(201);
    expect(b.body.task.id).not.toBe(a.body.task.id);
    expect(await tasksOf(alice)).toHaveLength(1);
    expect(await tasksOf(bob)).toHaveLength(1);
  });

  it('sends the record with a 24 h TTL under idem:tasks-create:…', async () => {
    const user = uniqueId('u');
    const sent: SaveOperation[] = [];
    saveHook = (store, operation) => {
      if (store === 'statestore' && operation.key.includes('idem:')) sent.push(operation);
      return undefined;
    };
    await createTask(user, { title: 'ttl' }, uniqueId('key'));
    expect(sent.length).toBeGreaterThanOrEqual(2); // running, then done
    for (const operation of sent) {
      expect(operation.key).toMatch(/^state-api\|\|idem:tasks-create:[A-Za-z0-9_-]{43}$/);
      expect(operation.metadata.ttlInSeconds).toBe('86400');
    }
  });

  it('rejects a malformed key with 400 at headers.idempotency-key and creates nothing', async () => {
    const user = uniqueId('u');
    for (const key of ['has space', 'a'.repeat(129), 'colon:key']) {
      const response = await createTask(user, { title: 'x' }, key);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'headers.idempotency-key' }] });
    }
    expect(await tasksOf(user)).toEqual([]);
  });

  it('runs a retry again after a 503 (nothing was stored), converging on one task', async () => {
    const user = uniqueId('u');
    const key = uniqueId('key');
    saveHook = (store, operation) => {
      return store === 'statestore-durable' && operation.key.includes(user) ? 'fail' : undefined;
    };
    expect((await createTask(user, { title: 'later' }, key)).status).toBe(503);
    saveHook = undefined;
    const retry = await createTask(user, { title: 'later' }, key);
    expect(retry.status).toBe(201);
    expect(await tasksOf(user)).toEqual([retry.body.task]);
  });
});

describe('Idempotency-Key on POST /api/users/{userId}/chat/messages', () => {
  const append = (userId: string, body: unknown, key: string) =>
    call('POST', `${stack.api}/users/${userId}/chat/messages`, { user: userId, body, headers: { 'idempotency-key': key } });

  it('answers a retry with the first 201 and stores the message once', async () => {
    const user = uniqueId('u');
    const key = uniqueId('key');
    const first = await append(user, { role: 'user', content: 'hello' }, key);
    expect(first.status).toBe(201);
    const retry = await append(user, { role: 'user', content: 'hello' }, key);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    const history = await call('GET', `${stack.api}/users/${user}/chat/messages`, { user });
    expect(history.body.messages).toEqual([first.body.message]);
    expect((await append(user, { role: 'user', content: 'changed' }, key)).status).toBe(422);
  });
});

describe('Idempotency-Key on POST /api/users/{userId}/chat/process', () => {
  const say = (userId: string, message: string, key: string) =>
    call('POST', `${stack.api}/users/${userId}/chat/process`, { user: userId, body: { message }, headers: { 'idempotency-key': key } });

  it('makes every step idempotent: a retried step answers the same and never advances the flow', async () => {
    const user = uniqueId('u');
    const steps = [
      { message: 'add a task', reply: { reply: replies.askTitle, state: 'awaiting_title' } },
      { message: 'Buy milk', reply: { reply: replies.askDescription('Buy milk'), state: 'awaiting_description' } },
      { message: 'Two litres', reply: { reply: replies.created('Buy milk'), state: 'idle' } },
    ];
    for (const step of steps) {
      const key = uniqueId('key');
      const first = await say(user, step.message, key);
      const retry = await say(user, step.message, key);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject(step.reply);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(first.body);
    }
    const tasks = await tasksOf(user);
    expect(tasks.map((t: { title: string; description: string }) => [t.title, t.description])).toEqual([['Buy milk', 'Two litres']]);
    const history = await call('GET', `${stack.api}/users/${user}/chat/messages?limit=50`, { user });
    expect(history.body.messages).toHaveLength(6); // each exchange recorded once
  });

  it('never lets a retried "add a task" become the title while the first is still finishing, in 16 flows', async () => {
    const users = Array.from({ length: 16 }, () => uniqueId('u'));
    // Each first request is held after it saved its step, while it records the exchange in the chat history.
    const gates = new Map(users.map((user) => [user, { held: false, reached: deferred(), release: deferred() }]));
    saveHook = async (store, operation) => {
      const user = users.find((u) => operation.key.endsWith(`chat:history:${u}`));
      const gate = user === undefined ? undefined : gates.get(user);
      if (store !== 'statestore' || !gate || gate.held) return;
      gate.held = true; // only the first request's save waits
      gate.reached.resolve();
      await gate.release.promise;
    };
    const flows = users.map(async (user) => {
      const gate = gates.get(user);
      if (!gate) throw new Error('no gate');
      const key = uniqueId('key');
      const first = say(user, 'add a task', key);
      await gate.reached.promise;
      const retry = await say(user, 'add a task', key); // the client gave up waiting and sent it again
      gate.release.resolve();
      return { user, key, first: await first, retry };
    });
    for (const { user, key, first, retry } of await Promise.all(flows)) {
      expect(first.body).toEqual({ reply: replies.askTitle, state: 'awaiting_title' });
      expect(retry.status).toBe(409);
      expect((await say(user, 'add a task', key)).body).toEqual(first.body);
      const workflow = await call('GET', `${stack.api}/users/${user}/chat/workflow`, { user });
      expect(workflow.body).toMatchObject({ state: 'awaiting_title' });
    }
  });
});
