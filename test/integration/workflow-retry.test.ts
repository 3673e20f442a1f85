import { describe, expect, it } from 'vitest';
import { createChatHistoryService } from '../../shared/chat/chat-history-service.js';
import { IdempotencyKeyReused, Unavailable } from '../../shared/errors.js';
import { createIdempotencyService } from '../../shared/idempotency/idempotency-service.js';
import { createLogger } from '../../shared/logger.js';
import type { StateStore } from '../../shared/state/port.js';
import { createTasksService } from '../../shared/tasks/tasks-service.js';
import { replies } from '../../shared/workflow/conversation.js';
import { createWorkflowService } from '../../shared/workflow/workflow-service.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';

const log = createLogger('silent');

describe('a workflow step retried with its Idempotency-Key after an unknown outcome', () => {
  const stores = useStores();

  /** The workflow's next save lands but its answer is lost, and reading it back fails too. */
  function losingOneAnswer(store: StateStore) {
    const switches = { armed: false, failRead: false };
    const wrapped: StateStore = {
      ...store,
      async save(key, value, options) {
        await store.save(key, value, options);
        if (switches.armed && key.startsWith('workflow:')) {
          switches.armed = false;
          switches.failRead = true;
          throw new Unavailable('sent, answer lost', { outcomeUnknown: true });
        }
      },
      async get(key) {
        if (switches.failRead && key.startsWith('workflow:')) {
          switches.failRead = false;
          throw new Unavailable('read back failed');
        }
        return store.get(key);
      },
    };
    return { wrapped, switches };
  }

  function setUp() {
    const clock = { now: () => Date.now() };
    const { wrapped, switches } = losingOneAnswer(stores.hot);
    const tasks = createTasksService({ durable: stores.durable, cache: stores.hot, clock, cacheTtlSeconds: 300 });
    const chat = createChatHistoryService({ store: wrapped, clock, settings: { maxMessages: 50, ttlSeconds: 3600 } });
    const workflow = createWorkflowService({ store: wrapped, clock, ttlSeconds: 600, tasks, chat });
    const idempotency = createIdempotencyService({ store: stores.hot, clock, runningTimeoutMs: 7000 });
    const userId = uniqueId('u');
    const send = (key: string, message: string) =>
      idempotency.run(
        { operation: 'workflow-process', userId, key, request: { message } },
        async (requestId) => ({ status: 200, body: await workflow.process(userId, message, log, requestId) }),
        log,
      );
    return { send, switches, tasks, chat, userId };
  }

  it('answers the step it applied, instead of applying the same message to the next step', async () => {
    const { send, switches, tasks, chat, userId } = setUp();
    await send('k1', 'add a task');
    switches.armed = true;
    const lost = await send('k2', 'Buy milk').catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(Unavailable);
    expect((lost as Unavailable).outcomeUnknown).toBe(true);

    const retry = await send('k2', 'Buy milk');

    expect(retry.body).toMatchObject({ state: 'awaiting_description', reply: replies.askDescription('Buy milk') });
    expect((await tasks.list(userId, log)).tasks).toEqual([]);
    const done = await send('k3', 'none');
    expect(done.body).toMatchObject({ state: 'idle', task: { title: 'Buy milk' } });
    const history = await chat.list(userId, { limit: 50 });
    expect(history.messages.filter((m) => m.content === 'Buy milk')).toHaveLength(1);
  });

  it('refuses the same key with another body after a failed first try (422), rather than running it', async () => {
    const { send, switches, tasks, chat, userId } = setUp();
    await send('k1', 'add a task');
    switches.armed = true;
    const lost = await send('k2', 'Buy milk').catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(Unavailable);

    const refused = await send('k2', 'Buy bread').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IdempotencyKeyReused);
    expect((refused as IdempotencyKeyReused).status).toBe(422);
    // Not run: nothing of "Buy bread" reached the history or the tasks.
    const history = await chat.list(userId, { limit: 50 });
    expect(history.messages.some((m) => m.content === 'Buy bread')).toBe(false);
    expect((await tasks.list(userId, log)).tasks).toEqual([]);
  });
});
