import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { type AppendOptions, type ChatHistoryService, historyKey } from '../chat/chat-history-service.js';
import type { Clock } from '../clock.js';
import { AlreadyExists, Conflict, Unavailable } from '../errors.js';
import type { Log } from '../logger.js';
import { parseStored } from '../state/compare-and-set.js';
import { keyBuilder } from '../state/keys.js';
import type { StateEntry, StateStore } from '../state/port.js';
import type { Task } from '../tasks/task-schemas.js';
import type { TasksService } from '../tasks/tasks-service.js';
import { type Effect, effectSchema, IDLE, type PublicState, step, type WorkflowState, workflowStateSchema } from './conversation.js';

export const workflowKey = keyBuilder('workflow', 'user');

/**
 * The stored key outlives the flow by this long, so a message that arrives after the flow expired
 * is told so (instead of silently starting over), and no save can race Redis expiring the key.
 */
export const EXPIRED_NOTICE_SECONDS = 3600;

/**
 * The step a request applied, kept with the state it produced: a request whose answer was lost (a
 * save with an unknown outcome) and that is retried with the same Idempotency-Key finds its own
 * step here and is answered from it, instead of being applied to the step it already advanced.
 */
const appliedSchema = z.object({
  requestId: z.string(),
  reply: z.string(),
  effects: z.array(effectSchema),
  stepId: z.string().optional(),
});
type Applied = z.infer<typeof appliedSchema>;
/** What a step answers and does, whether just applied or found applied. */
type StepOutcome = Omit<Applied, 'requestId'>;

const workflowDocumentSchema = z.object({ v: z.literal(1), workflow: workflowStateSchema, applied: appliedSchema.optional() });
type WorkflowDocument = z.infer<typeof workflowDocumentSchema>;

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
  /** `requestId` (from an Idempotency-Key) makes a retry of an applied step answer as the first time. */
  process(userId: string, message: string, log: Log, requestId?: string): Promise<ProcessResult>;
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

/** The chat history ids of a step's exchange: the user's message and the reply. */
const exchangeIds = (stepId: string) => ({ message: `wf-${stepId}-in`, reply: `wf-${stepId}-out` });

/** What JSON keeps of a value (no undefined fields), for comparing what we wrote with what is stored. */
const asStored = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/**
 * Loads the user's conversation state, applies one message with the pure `step`, saves the new
 * state with a single compare-and-set, and only then runs its effects and records the exchange in
 * the chat history with one append. There is deliberately no retry: if another message for the
 * same user was processed meanwhile, this one answers 409 and has done nothing, rather than being
 * applied to a step it never saw. Effects are idempotent (the task id is derived from the flow), so
 * a crash after the save is repaired by the client's retry.
 *
 * Store calls: the workflow and chat history keys are read together (one bulk read, when both live
 * in the same store), the step is one write, the exchange one write (the append decides on the
 * history read with the workflow, re-reading only on a conflict), plus the task service's own calls.
 * That the task exists is known from the history, not from a second write of the workflow: the
 * reply is recorded only after the task was made, so a retried final message whose reply is in the
 * history only shows the task (the user may have deleted it since), and one whose reply is not
 * makes sure of it.
 */
export function createWorkflowService(deps: WorkflowDeps): WorkflowService {
  const { store, clock, ttlSeconds, tasks, chat, newId = randomUUID } = deps;

  const parseDocument = (key: string, entry: StateEntry | null): WorkflowDocument =>
    entry === null ? { v: 1, workflow: IDLE } : parseStored(workflowDocumentSchema, key, entry.value);

  /** The workflow, and the history as read with it (`read` undefined: not read, the chat service reads it). */
  async function load(userId: string, withHistory: boolean) {
    const key = workflowKey(userId);
    if (withHistory && chat.store === store) {
      const [workflowEntry, historyEntry] = await store.getBulk([key, historyKey(userId)]);
      const entry = workflowEntry?.entry ?? null;
      const { workflow, applied } = parseDocument(key, entry);
      return { key, entry, workflow, applied, history: { read: historyEntry?.entry ?? null } };
    }
    const entry = await store.get(key);
    const { workflow, applied } = parseDocument(key, entry);
    return { key, entry, workflow, applied, history: {} };
  }

  /**
   * A retried final message (same text as the last completion's) needs to know whether the task was
   * made: it was if the completion's reply is in the history, as the reply is recorded only after.
   */
  async function withKnownTask(userId: string, workflow: WorkflowState, message: string, history: AppendOptions): Promise<WorkflowState> {
    if (workflow.state !== 'idle') return workflow;
    const last = workflow.lastCompletion;
    if (!last || last.confirmed || last.finalMessage !== message.trim()) return workflow;
    const recorded = await chat.contains(userId, exchangeIds(`${last.instanceId}-${last.step}`).reply, history);
    return recorded ? { state: 'idle', lastCompletion: { ...last, confirmed: true } } : workflow;
  }

  async function runEffect(userId: string, effect: Effect, log: Log): Promise<Task | undefined> {
    if (effect.kind === 'show-task') return (await tasks.list(userId, log)).tasks.find((t) => t.id === effect.taskId);
    const { task } = await tasks.create(userId, { title: effect.title, description: effect.description }, log, effect.taskId);
    return task;
  }

  async function save(key: string, etag: string | undefined, document: WorkflowDocument, log: Log): Promise<void> {
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
      if (!(error instanceof Unavailable && error.outcomeUnknown)) throw error;
      // The save was sent but not answered: read it back; it landed if the step we wrote is stored.
      const stored = await store.get(key).catch(() => {
        throw error;
      });
      if (!isDeepStrictEqual(asStored(parseDocument(key, stored)), asStored(document))) throw error;
      log.warn({ err: error }, 'workflow step outcome was unknown; read back: applied');
    }
  }

  async function record(userId: string, message: string, reply: string, stepId: string | undefined, history: AppendOptions, log: Log) {
    const ids = stepId === undefined ? { message: newId(), reply: newId() } : exchangeIds(stepId);
    try {
      await chat.appendMany(
        userId,
        [
          { role: 'user', content: message, id: ids.message },
          { role: 'assistant', content: reply, id: ids.reply },
        ],
        log,
        history,
      );
    } catch (error) {
      // The step itself is done and saved; failing the request now would make the client resend
      // a message that has already been applied. The history misses this exchange instead.
      log.error({ err: error }, 'could not record the workflow exchange in the chat history');
    }
  }

  /**
   * Runs a saved step's effects and records its exchange. Both are idempotent (the task id and the
   * history ids derive from the step), so a retried request that finds its own step applied runs
   * them again safely and gets the same answer.
   */
  async function finish(
    userId: string,
    message: string,
    outcome: StepOutcome,
    state: PublicState,
    history: AppendOptions,
    log: Log,
  ): Promise<ProcessResult> {
    let task: Task | undefined;
    for (const effect of outcome.effects) task = (await runEffect(userId, effect, log)) ?? task;
    await record(userId, message.trim(), outcome.reply, outcome.stepId, history, log);
    return { reply: outcome.reply, state, ...(task ? { task } : {}) };
  }

  return {
    async process(userId, message, log, requestId) {
      const loaded = await load(userId, true);
      const { key, entry, history } = loaded;
      if (requestId !== undefined && loaded.applied?.requestId === requestId) {
        return finish(userId, message, loaded.applied, loaded.workflow.state, history, log);
      }
      const workflow = await withKnownTask(userId, loaded.workflow, message, history);
      const result = step(workflow, { message, now: clock.now(), ttlSeconds, newInstanceId: newId() });
      const outcome: StepOutcome = { reply: result.reply, effects: result.effects, ...(result.stepId ? { stepId: result.stepId } : {}) };
      if (!isDeepStrictEqual(result.next, workflow)) {
        const applied: Applied | undefined = requestId === undefined ? undefined : { requestId, ...outcome };
        await save(key, entry?.etag, { v: 1, workflow: result.next, ...(applied ? { applied } : {}) }, log);
      }
      log.info({ from: workflow.state, to: result.next.state, effects: result.effects.length }, 'workflow step');
      return finish(userId, message, outcome, result.next.state, history, log);
    },

    async status(userId) {
      const { workflow } = await load(userId, false);
      if (workflow.state === 'idle' || Date.parse(workflow.expiresAt) <= clock.now()) return { state: 'idle' };
      return {
        state: workflow.state,
        ...(workflow.state === 'awaiting_description' ? { title: workflow.title } : {}),
        expiresAt: workflow.expiresAt,
      };
    },
  };
}
