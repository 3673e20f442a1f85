import { describe, expect, it } from 'vitest';
import { createChatHistoryService } from '../../shared/chat/chat-history-service.js';
import { Conflict, Unavailable } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import type { StateStore } from '../../shared/state/port.js';
import { createTasksService } from '../../shared/tasks/tasks-service.js';
import { replies } from '../../shared/workflow/conversation.js';
import { createWorkflowService } from '../../shared/workflow/workflow-service.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';

const log = createLogger('silent');
const TTL = 600;

describe('the workflow service with a clock it does not own', () => {
  const stores = useStores();

  function services(hot: StateStore = stores.hot) {
    const clock = { at: Date.now(), now: () => clock.at };
    const tasks = createTasksService({ durable: stores.durable, cache: stores.hot, clock, cacheTtlSeconds: 300 });
    const chat = createChatHistoryService({ store: hot, clock, settings: { maxMessages: 50, ttlSeconds: 3600 } });
    const workflow = createWorkflowService({ store: hot, clock, ttlSeconds: TTL, tasks, chat });
    return { clock, tasks, workflow };
  }

  /** A workflow service whose first read of the workflow key (alone or in a bulk read) waits until `release()`. */
  function heldAfterRead() {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let read = () => {};
    const hasRead = new Promise<void>((resolve) => {
      read = resolve;
    });
    let first = true;
    const hold = async (keys: readonly string[]) => {
      if (keys.some((key) => key.startsWith('workflow:')) && first) {
        first = false;
        read();
        await held;
      }
    };
    const slow = services({
      ...stores.hot,
      async get(key) {
        const entry = await stores.hot.get(key);
        await hold([key]);
        return entry;
      },
      async getBulk(keys) {
        const entries = await stores.hot.getBulk(keys);
        await hold(keys);
        return entries;
      },
    });
    return { slow, hasRead, release: () => release() };
  }

  it('answers 409 to a message whose step another message advanced after it was read', async () => {
    const user = uniqueId('u');
    await services().workflow.process(user, 'add a task', log);
    const { slow, hasRead, release } = heldAfterRead();
    const slowStep = slow.workflow.process(user, 'Title A', log).catch((e: unknown) => e);
    await hasRead;
    const fast = await services().workflow.process(user, 'Title B', log);
    release();
    const error = await slowStep;
    expect(fast.state).toBe('awaiting_description');
    expect(error).toBeInstanceOf(Conflict);
    expect((error as Conflict).status).toBe(409);
    expect(await services().workflow.status(user)).toMatchObject({ state: 'awaiting_description', title: 'Title B' });
  });

  it('lets a final message that lost the race create nothing', async () => {
    const user = uniqueId('u');
    const { workflow, tasks } = services();
    await workflow.process(user, 'add a task', log);
    await workflow.process(user, 'Groceries', log);
    const { slow, hasRead, release } = heldAfterRead();
    const loser = slow.workflow.process(user, 'description X', log).catch((e: unknown) => e);
    await hasRead;
    const winner = await workflow.process(user, 'description Y', log);
    release();
    expect(await loser).toBeInstanceOf(Conflict);
    expect(winner.task).toMatchObject({ title: 'Groceries', description: 'description Y' });
    expect((await tasks.list(user, log)).tasks.map((t) => t.description)).toEqual(['description Y']);
  });

  it('creates nothing when cancel wins against the final message', async () => {
    const user = uniqueId('u');
    const { workflow, tasks } = services();
    await workflow.process(user, 'add a task', log);
    await workflow.process(user, 'Groceries', log);
    const { slow, hasRead, release } = heldAfterRead();
    const final = slow.workflow.process(user, 'milk and eggs', log).catch((e: unknown) => e);
    await hasRead;
    expect((await workflow.process(user, 'cancel', log)).reply).toBe(replies.cancelled);
    release();
    expect(await final).toBeInstanceOf(Conflict);
    expect((await tasks.list(user, log)).tasks).toEqual([]);
  });

  it('answers concurrent idle messages without conflicts, writing nothing', async () => {
    const user = uniqueId('u');
    const { workflow } = services();
    const replies_ = await Promise.all(Array.from({ length: 5 }, () => workflow.process(user, 'hello', log)));
    expect(replies_.map((r) => r.reply)).toEqual(replies_.map(() => replies.help));
    expect(await stores.hot.get(`workflow:user:${user}`)).toBeNull();
  });

  it('never re-creates a task the user deleted when the final message is sent again', async () => {
    const user = uniqueId('u');
    const { workflow, tasks } = services();
    await workflow.process(user, 'add a task', log);
    await workflow.process(user, 'Short-lived', log);
    const done = await workflow.process(user, 'none', log);
    await tasks.remove(user, done.task?.id ?? '', log);
    const again = await workflow.process(user, 'none', log);
    expect(again.task).toBeUndefined();
    expect((await tasks.list(user, log)).tasks).toEqual([]);
  });

  it('creates the task on a retry when the first try stopped after saving the step', async () => {
    const user = uniqueId('u');
    const { workflow, tasks, clock } = services();
    await workflow.process(user, 'add a task', log);
    await workflow.process(user, 'Crash test', log);
    // The final step is saved but the task store fails before the task is created.
    const broken = createWorkflowService({
      store: stores.hot,
      clock,
      ttlSeconds: TTL,
      chat: createChatHistoryService({ store: stores.hot, clock, settings: { maxMessages: 50, ttlSeconds: 3600 } }),
      tasks: {
        ...tasks,
        create: () => Promise.reject(new Unavailable('durable store down')),
      },
    });
    await expect(broken.process(user, 'details', log)).rejects.toBeInstanceOf(Unavailable);
    expect((await tasks.list(user, log)).tasks).toEqual([]);
    const retried = await workflow.process(user, 'details', log);
    expect(retried.task).toMatchObject({ title: 'Crash test', description: 'details' });
    expect((await tasks.list(user, log)).tasks).toHaveLength(1);
  });

  it('reports a flow that expired mid-way, creating nothing, then starts fresh', async () => {
    const { clock, tasks, workflow } = services();
    const user = uniqueId('u');
    await workflow.process(user, 'add a task', log);
    await workflow.process(user, 'Too slow', log);
    clock.at += TTL * 1000 + 1;
    expect(await workflow.status(user)).toEqual({ state: 'idle' });
    expect(await workflow.process(user, 'my description', log)).toEqual({ reply: replies.expired, state: 'idle' });
    expect((await tasks.list(user, log)).tasks).toEqual([]);
    expect((await workflow.process(user, 'add a task', log)).state).toBe('awaiting_title');
  });

  it('restarts the TTL at every step', async () => {
    const { clock, workflow } = services();
    const user = uniqueId('u');
    await workflow.process(user, 'add a task', log);
    clock.at += (TTL - 10) * 1000;
    await workflow.process(user, 'Title', log);
    clock.at += (TTL - 10) * 1000;
    expect((await workflow.process(user, 'desc', log)).reply).toBe(replies.created('Title'));
  });

  it('still reports expiry after the store would have dropped a key with only the flow’s TTL', async () => {
    const { clock, workflow } = services();
    const user = uniqueId('u');
    await workflow.process(user, 'add a task', log);
    clock.at += (TTL + 60) * 1000;
    stores.now += (TTL + 60) * 1000;
    expect((await workflow.process(user, 'Title', log)).reply).toBe(replies.expired);
  });

  it('records each step’s message and reply with one history write, after the task is made', async () => {
    const user = uniqueId('u');
    const writes: Array<{ key: string; ids: string[] }> = [];
    const { workflow } = services({
      ...stores.hot,
      async save(key, value, options) {
        if (key.startsWith('chat:history:'))
          writes.push({ key, ids: (value as { messages: Array<{ id: string }> }).messages.map((m) => m.id) });
        return stores.hot.save(key, value, options);
      },
    });
    await workflow.process(user, 'add a task', log);
    await workflow.process(user, 'One write', log);
    const done = await workflow.process(user, 'per step', log);
    expect(done.task).toMatchObject({ title: 'One write' });
    expect(writes).toHaveLength(3);
    expect(writes.map((w) => w.ids.length)).toEqual([2, 4, 6]);
    expect(writes[2]?.ids.slice(-2)).toEqual([expect.stringMatching(/-in$/), expect.stringMatching(/-out$/)]);
  });

  it('goes on with a step whose save landed though its answer was lost, found by reading it back', async () => {
    const user = uniqueId('u');
    const { workflow, tasks } = services({
      ...stores.hot,
      async save(key, value, options) {
        await stores.hot.save(key, value, options);
        if (key.startsWith('workflow:')) throw new Unavailable('no answer after sending', { outcomeUnknown: true });
      },
    });
    expect((await workflow.process(user, 'add a task', log)).state).toBe('awaiting_title');
    expect((await workflow.process(user, 'Unanswered', log)).state).toBe('awaiting_description');
    expect((await workflow.process(user, 'saves', log)).task).toMatchObject({ title: 'Unanswered', description: 'saves' });
    expect((await tasks.list(user, log)).tasks).toHaveLength(1);
  });

  it('answers 503 with the outcome unknown when a step’s unanswered save is not found on reading back', async () => {
    const user = uniqueId('u');
    const { workflow } = services({
      ...stores.hot,
      async save(key, value, options) {
        if (key.startsWith('workflow:')) throw new Unavailable('no answer after sending', { outcomeUnknown: true });
        return stores.hot.save(key, value, options);
      },
    });
    const error = await workflow.process(user, 'add a task', log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Unavailable).outcomeUnknown).toBe(true);
  });
});
