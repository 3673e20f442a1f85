import { z } from 'zod';
import { isoTimestamp } from '../schemas.js';

/**
 * The chatbot's task-creation conversation as a pure function: no I/O, no clock, no randomness;
 * everything it needs comes in as arguments, so every branch is unit-tested directly.
 */

export const completionSchema = z.object({
  instanceId: z.string(),
  step: z.number().int(),
  taskId: z.string(),
  title: z.string(),
  description: z.string(),
  finalMessage: z.string(),
  at: isoTimestamp,
  /**
   * True when the task is known to exist: a retry then only shows it, never re-creates it. The
   * service sets it on the state it passes in when the completion's reply is in the chat history
   * (recorded only after the task was made); stored documents from earlier versions may carry it.
   */
  confirmed: z.boolean().optional(),
});

export const workflowStateSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('idle'), lastCompletion: completionSchema.optional() }),
  z.object({
    state: z.literal('awaiting_title'),
    instanceId: z.string(),
    step: z.number().int(),
    expiresAt: isoTimestamp,
  }),
  z.object({
    state: z.literal('awaiting_description'),
    instanceId: z.string(),
    step: z.number().int(),
    title: z.string(),
    expiresAt: isoTimestamp,
  }),
]);
export type WorkflowState = z.infer<typeof workflowStateSchema>;
export type PublicState = WorkflowState['state'];

export const IDLE: WorkflowState = { state: 'idle' };

/**
 * `create-task` makes sure the flow's task exists: its id is derived from the flow, and creating an
 * existing id returns the task that is there, so running it again (a retry after a crash between
 * saving the step and creating the task) never makes a second one. `show-task` answers with a task
 * already confirmed, without creating it again (the user may have deleted it since).
 */
export const effectSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('create-task'), taskId: z.string(), title: z.string(), description: z.string() }),
  z.object({ kind: z.literal('show-task'), taskId: z.string() }),
]);
export type Effect = z.infer<typeof effectSchema>;

export interface StepInput {
  message: string;
  now: number;
  ttlSeconds: number;
  /** Used only when this message starts a new flow. */
  newInstanceId: string;
}

export interface StepResult {
  next: WorkflowState;
  reply: string;
  effects: Effect[];
  /** Identifies this step for idempotent side effects (chat history ids); absent when idle. */
  stepId?: string;
}

export const TITLE_MAX = 200;
/** How long after finishing a flow its final message, sent again, is taken as a retry. */
export const RETRY_WINDOW_MS = 5 * 60 * 1000;
export const DESCRIPTION_MAX = 2000;
const CREATE_INTENT = /\b(create|add|new|make|start)\b.*\btasks?\b|\btodo\b/i;
const CANCEL = /^(cancel|stop|abort|never ?mind)[.!]*$/i;
const NO_DESCRIPTION = /^(none|no|skip|-)[.!]*$/i;

export const replies = {
  help: 'I can create tasks for you. Say “add a task” to start, and “cancel” at any point to stop.',
  askTitle: 'What should the task be called?',
  badTitle: `A title needs 1–${TITLE_MAX} characters. What should the task be called?`,
  askDescription: (title: string) => `Got it: “${title}”. Add a description, or say “none”.`,
  badDescription: `A description can be at most ${DESCRIPTION_MAX} characters. Try a shorter one, or say “none”.`,
  created: (title: string) => `Created the task “${title}”.`,
  cancelled: 'Cancelled. Nothing was created.',
  nothingToCancel: 'There is nothing to cancel.',
  expired: 'That task creation expired before it was finished, so nothing was created. Say “add a task” to start again.',
};

export function step(current: WorkflowState, input: StepInput): StepResult {
  const text = input.message.trim();
  if (current.state !== 'idle' && Date.parse(current.expiresAt) <= input.now) {
    return { next: IDLE, reply: replies.expired, effects: [] };
  }
  if (CANCEL.test(text)) {
    return { next: IDLE, reply: current.state === 'idle' ? replies.nothingToCancel : replies.cancelled, effects: [] };
  }
  const expiresAt = new Date(input.now + input.ttlSeconds * 1000).toISOString();

  switch (current.state) {
    case 'idle': {
      const last = current.lastCompletion;
      if (last && last.finalMessage === text && input.now - Date.parse(last.at) <= RETRY_WINDOW_MS) {
        // The final message again, soon after: a client retrying after a lost response gets the
        // same outcome, and the task is made sure of (it may not exist if the first try crashed).
        const { taskId, title, description } = last;
        return {
          next: current,
          reply: replies.created(title),
          effects: [last.confirmed ? { kind: 'show-task', taskId } : { kind: 'create-task', taskId, title, description }],
          stepId: `${last.instanceId}-${last.step}`,
        };
      }
      if (!CREATE_INTENT.test(text)) return { next: IDLE, reply: replies.help, effects: [] };
      const instanceId = input.newInstanceId;
      return {
        next: { state: 'awaiting_title', instanceId, step: 1, expiresAt },
        reply: replies.askTitle,
        effects: [],
        stepId: `${instanceId}-0`,
      };
    }
    case 'awaiting_title': {
      const stepId = `${current.instanceId}-${current.step}`;
      if (text.length === 0 || text.length > TITLE_MAX) {
        return { next: { ...current, step: current.step + 1, expiresAt }, reply: replies.badTitle, effects: [], stepId };
      }
      return {
        next: { state: 'awaiting_description', instanceId: current.instanceId, step: current.step + 1, title: text, expiresAt },
        reply: replies.askDescription(text),
        effects: [],
        stepId,
      };
    }
    case 'awaiting_description': {
      const stepId = `${current.instanceId}-${current.step}`;
      if (text.length > DESCRIPTION_MAX) {
        return { next: { ...current, step: current.step + 1, expiresAt }, reply: replies.badDescription, effects: [], stepId };
      }
      const taskId = `wf-${current.instanceId}`;
      const description = NO_DESCRIPTION.test(text) ? '' : text;
      return {
        next: {
          state: 'idle',
          lastCompletion: {
            instanceId: current.instanceId,
            step: current.step,
            taskId,
            title: current.title,
            description,
            finalMessage: text,
            at: new Date(input.now).toISOString(),
          },
        },
        reply: replies.created(current.title),
        effects: [{ kind: 'create-task', taskId, title: current.title, description }],
        stepId,
      };
    }
  }
}

export const processMessageSchema = z.strictObject({ message: z.string().min(1).max(4000) });
