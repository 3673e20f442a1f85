import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { ChatHistoryService } from '../chat/chat-history-service.js';
import type { Clock } from '../clock.js';
import { AlreadyExists, Conflict } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseStored, updateWithRetry } from '../state/compare-and-set.js';
import { keyBuilder } from '../state/keys.js';
import type { StateStore } from '../state/port.js';
import type { Task } from '../tasks/task-schemas.js';
import type { TasksService } from '../tasks/tasks-service.js';
import { type Effect, IDLE, type PublicState, step, type WorkflowState, workflowStateSchema } from './conversation.js';

export const workflowKey = keyBuilder('workflow', 'user');

/**
 * The stored key outlives the flow by this long, so a message that arrives after the flow expired
 * is told so (instead of silently starting over), and no save can race Redis expiring the key.
 */
export const EXPIRED_NOTICE_SECONDS = 3600;

const workflowDocumentSchema = z.object({ v: z.literal(1), workflow: workflowStateSchema });

export interface ProcessResult {
  reply: string;
  state: PublicState;
  task?: Task;
}

export interface WorkflowStatus {
  state: PublicState;
  title?: string;
  expiresAt?: string;
}

export interface WorkflowService {
  process(userId: string, message: string, log: Logger): Promise<ProcessResult>;
  status(userId: string): Promise<WorkflowStatus>;
}

export interface WorkflowDeps {
  store: StateStore;
  clock: Clock;
  ttlSeconds: number;
  tasks: TasksService;
  chat: ChatHistoryService;
  newId?: () => string;
}

/**
 * Loads the user's conversation state, applies one message with the pure `step`, saves the new
 * state with a single compare-and-set, and only then runs its effects. There is deliberately no
 * retry: if another message for the same user was processed meanwhile, this one answers 409 and
 * has done nothing, rather than being applied to a step it never saw. Effects are idempotent (the
 * task id is derived from the flow), so a crash after the save is repaired by the client's retry.
 */
export function createWorkflowService(deps: WorkflowDeps): WorkflowService {
  const { store, clock, ttlSeconds, tasks, chat, newId = randomUUID } = deps;

  async function load(userId: string) {
    const key = workflowKey(userId);
    const entry = await store.get(key);
    const workflow = entry === null ? IDLE : parseStored(workflowDocumentSchema, key, entry.value).workflow;
    return { key, entry, workflow };
  }

  async function runEffect(userId: string, effect: Effect, log: Logger): Promise<Task | undefined> {
    if (effect.kind === 'show-task') return (await tasks.list(userId, log)).tasks.find((t) => t.id === effect.taskId);
    const { task } = await tasks.create(userId, { title: effect.title, description: effect.description }, log, effect.taskId);
    return task;
  }

  /** Records that the flow's task exists, so a later retry shows it instead of re-creating it. */
  async function confirm(key: string, instanceId: string, log: Logger): Promise<void> {
    try {
      await updateWithRetry({
        store,
        key,
        schema: workflowDocumentSchema,
        ttlSeconds: ttlSeconds + EXPIRED_NOTICE_SECONDS,
        decide: (current) => {
          const workflow = current?.workflow;
          if (workflow?.state !== 'idle' || workflow.lastCompletion?.instanceId !== instanceId || workflow.lastCompletion.confirmed) {
            return { result: undefined };
          }
          return { write: { v: 1 as const, workflow: { ...workflow, lastCompletion: { ...workflow.lastCompletion, confirmed: true } } }, result: undefined };
        },
      });
    } catch (error) {
      // Unconfirmed only means a retry would make sure of the task once more.
      log.warn({ err: error }, 'could not confirm the workflow task');
    }
  }

  async function save(key: string, etag: string | undefined, workflow: WorkflowState): Promise<void> {
    const document = { v: 1, workflow };
    const ttl = ttlSeconds + EXPIRED_NOTICE_SECONDS;
    try {
      await store.save(
        key,
        document,
        etag === undefined ? { mode: 'create-only', ttlSeconds: ttl } : { mode: 'compare-and-set', etag, ttlSeconds: ttl },
      );
    } catch (error) {
      if (error instanceof Conflict || error instanceof AlreadyExists) {
        throw new Conflict('Another message in this conversation was handled at the same time. Send yours again.', {
          cause: error,
        });
      }
      throw error;
    }
  }

  async function record(userId: string, message: string, reply: string, stepId: string | undefined, log: Logger) {
    const ids = stepId === undefined ? [newId(), newId()] : [`wf-${stepId}-in`, `wf-${stepId}-out`];
    try {
      await chat.append(userId, { role: 'user', content: message, id: ids[0] }, log);
      await chat.append(userId, { role: 'assistant', content: reply, id: ids[1] }, log);
    } catch (error) {
      // The step itself is done and saved; failing the request now would make the client resend
      // a message that has already been applied. The history misses this exchange instead.
      log.error({ err: error }, 'could not record the workflow exchange in the chat history');
    }
  }

  return {
    async process(userId, message, log) {
      const { key, entry, workflow } = await load(userId);
      const result = step(workflow, { message, now: clock.now(), ttlSeconds, newInstanceId: newId() });
      if (!isDeepStrictEqual(result.next, workflow)) await save(key, entry?.etag, result.next);
      let task: Task | undefined;
      for (const effect of result.effects) task = (await runEffect(userId, effect, log)) ?? task;
      const completion = result.next.state === 'idle' ? result.next.lastCompletion : undefined;
      if (task && completion && !completion.confirmed) await confirm(key, completion.instanceId, log);
      await record(userId, message.trim(), result.reply, result.stepId, log);
      log.info({ from: workflow.state, to: result.next.state, effects: result.effects.length }, 'workflow step');
      return { reply: result.reply, state: result.next.state, ...(task ? { task } : {}) };
    },

    async status(userId) {
      const { workflow } = await load(userId);
      if (workflow.state === 'idle' || Date.parse(workflow.expiresAt) <= clock.now()) return { state: 'idle' };
      return {
        state: workflow.state,
        ...(workflow.state === 'awaiting_description' ? { title: workflow.title } : {}),
        expiresAt: workflow.expiresAt,
      };
    },
  };
}
