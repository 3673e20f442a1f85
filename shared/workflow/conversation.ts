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
  finalMessage: z.string(),
  at: isoTimestamp,
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

export type Effect =
  | {
      kind: 'create-task';
      /** Derived from the workflow instance, so creating it again finds the first one. */
      taskId: string;
      title: string;
      description: string;
    }
  /** Answer with a task created earlier (a retried final message). */
  | { kind: 'show-task'; taskId: string };

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
export const DESCRIPTION_MAX = 2000;
const CREATE_INTENT = /\b(create|add|new|make|start)\b.*\btasks?\b|\btodo\b/i;
const CANCEL = /^(cancel|stop|abort|never ?mind)[.!]*$/i;
const NO_DESCRIPTION = /^(none|no|skip|-)[.!]*$/i;

export const replies = {
  help: "I can create tasks for you. Say “add a task” to start, and “cancel” at any point to stop.",
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
      if (last && last.finalMessage === text) {
        // The final message again: a client retrying after a lost response gets the same outcome.
        return {
          next: current,
          reply: replies.created(last.title),
          effects: [{ kind: 'show-task', taskId: last.taskId }],
          stepId: `${last.instanceId}-${last.step}`,
        };
      }
      if (!CREATE_INTENT.test(text)) return { next: current, reply: replies.help, effects: [] };
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
      return {
        next: {
          state: 'idle',
          lastCompletion: {
            instanceId: current.instanceId,
            step: current.step,
            taskId,
            title: current.title,
            finalMessage: text,
            at: new Date(input.now).toISOString(),
          },
        },
        reply: replies.created(current.title),
        effects: [{ kind: 'create-task', taskId, title: current.title, description: NO_DESCRIPTION.test(text) ? '' : text }],
        stepId,
      };
    }
  }
}

export const processMessageSchema = z.strictObject({ message: z.string().min(1).max(4000) });
