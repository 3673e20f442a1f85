import { describe, expect, it } from 'vitest';
import { IDLE, RETRY_WINDOW_MS, replies, step, type StepInput, type WorkflowState } from '../../shared/workflow/conversation.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const TTL = 600;
const input = (message: string, overrides: Partial<StepInput> = {}): StepInput => ({
  message,
  now: NOW,
  ttlSeconds: TTL,
  newInstanceId: 'inst-1',
  ...overrides,
});
const later = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();

const awaitingTitle: WorkflowState = { state: 'awaiting_title', instanceId: 'inst-1', step: 1, expiresAt: later(TTL) };
const awaitingDescription: WorkflowState = {
  state: 'awaiting_description',
  instanceId: 'inst-1',
  step: 2,
  title: 'Buy milk',
  expiresAt: later(TTL),
};

describe('the task-creation conversation', () => {
  describe('when idle', () => {
    it.each(['add a task', 'Create a new task please', 'new task', 'I want to make a task', 'add todo', 'ADD A TASK!'])(
      'starts a flow on %j and asks for a title',
      (message) => {
        expect(step(IDLE, input(message))).toEqual({
          next: { state: 'awaiting_title', instanceId: 'inst-1', step: 1, expiresAt: later(TTL) },
          reply: replies.askTitle,
          effects: [],
          stepId: 'inst-1-0',
        });
      },
    );

    it.each(['hello', 'what can you do?', 'tasks', 'add milk'])('answers %j with a short help text and stays idle', (message) => {
      expect(step(IDLE, input(message))).toEqual({ next: IDLE, reply: replies.help, effects: [] });
    });

    it('says there is nothing to cancel', () => {
      expect(step(IDLE, input('cancel'))).toEqual({ next: IDLE, reply: replies.nothingToCancel, effects: [] });
    });
  });

  describe('when awaiting a title', () => {
    it('takes a valid title, trimmed, and asks for a description, restarting the TTL', () => {
      const result = step(awaitingTitle, input('  Buy milk  ', { now: NOW + 60_000 }));
      expect(result).toEqual({
        next: { state: 'awaiting_description', instanceId: 'inst-1', step: 2, title: 'Buy milk', expiresAt: later(60 + TTL) },
        reply: replies.askDescription('Buy milk'),
        effects: [],
        stepId: 'inst-1-1',
      });
    });

    it.each([
      ['blank', '   '],
      ['over 200 characters', 'x'.repeat(201)],
    ])('re-prompts on a %s title and stays, restarting the TTL', (_what, message) => {
      const result = step(awaitingTitle, input(message, { now: NOW + 30_000 }));
      expect(result.next).toEqual({ ...awaitingTitle, step: 2, expiresAt: later(30 + TTL) });
      expect(result.reply).toBe(replies.badTitle);
      expect(result.effects).toEqual([]);
    });

    it('accepts a title of exactly 200 characters', () => {
      expect(step(awaitingTitle, input('x'.repeat(200))).next.state).toBe('awaiting_description');
    });
  });

  describe('when awaiting a description', () => {
    it('creates the task under an id derived from the flow and goes idle', () => {
      const result = step(awaitingDescription, input('2 litres, semi-skimmed'));
      expect(result).toEqual({
        next: {
          state: 'idle',
          lastCompletion: {
            instanceId: 'inst-1',
            step: 2,
            taskId: 'wf-inst-1',
            title: 'Buy milk',
            description: '2 litres, semi-skimmed',
            finalMessage: '2 litres, semi-skimmed',
            at: later(0),
          },
        },
        reply: replies.created('Buy milk'),
        effects: [{ kind: 'create-task', taskId: 'wf-inst-1', title: 'Buy milk', description: '2 litres, semi-skimmed' }],
        stepId: 'inst-1-2',
      });
    });

    it.each(['none', 'skip', 'No.'])('creates the task with no description on %j', (message) => {
      expect(step(awaitingDescription, input(message)).effects).toEqual([
        { kind: 'create-task', taskId: 'wf-inst-1', title: 'Buy milk', description: '' },
      ]);
    });

    it('re-prompts on a description over 2000 characters', () => {
      const result = step(awaitingDescription, input('x'.repeat(2001)));
      expect(result.next).toMatchObject({ state: 'awaiting_description', step: 3 });
      expect(result.reply).toBe(replies.badDescription);
      expect(result.effects).toEqual([]);
    });
  });

  describe('a retried final message', () => {
    it('answers the same outcome again and makes sure of the same task, changing no state', () => {
      const done = step(awaitingDescription, input('2 litres'));
      const retried = step(done.next, input('2 litres', { now: NOW + 5_000, newInstanceId: 'inst-2' }));
      expect(retried).toEqual({
        next: done.next,
        reply: done.reply,
        effects: done.effects,
        stepId: done.stepId,
      });
    });

    it('only shows the task on a retry once it is confirmed to exist', () => {
      const done = step(awaitingDescription, input('2 litres'));
      if (done.next.state !== 'idle' || !done.next.lastCompletion) throw new Error('expected a completion');
      const confirmed: WorkflowState = { state: 'idle', lastCompletion: { ...done.next.lastCompletion, confirmed: true } };
      expect(step(confirmed, input('2 litres')).effects).toEqual([{ kind: 'show-task', taskId: 'wf-inst-1' }]);
    });

    it('is a retry only within the retry window', () => {
      const done = step(awaitingDescription, input('none'));
      expect(step(done.next, input('none', { now: NOW + RETRY_WINDOW_MS })).effects).toHaveLength(1);
      expect(step(done.next, input('none', { now: NOW + RETRY_WINDOW_MS + 1 }))).toEqual({ next: IDLE, reply: replies.help, effects: [] });
    });

    it('forgets the finished flow on any other message', () => {
      const done = step(awaitingDescription, input('2 litres'));
      expect(step(done.next, input('thanks'))).toEqual({ next: IDLE, reply: replies.help, effects: [] });
    });
  });

  describe('cancel', () => {
    it.each([
      ['awaiting a title', awaitingTitle],
      ['awaiting a description', awaitingDescription],
    ])('goes idle from %s without creating anything', (_when, state) => {
      for (const word of ['cancel', 'Cancel', 'stop', 'never mind']) {
        expect(step(state, input(word))).toEqual({ next: IDLE, reply: replies.cancelled, effects: [] });
      }
    });
  });

  describe('expiry', () => {
    it.each([
      ['awaiting a title', awaitingTitle],
      ['awaiting a description', awaitingDescription],
    ])('reports a flow that expired while %s, instead of silently going on', (_when, state) => {
      const result = step(state, input('2 litres', { now: NOW + TTL * 1000 }));
      expect(result).toEqual({ next: IDLE, reply: replies.expired, effects: [] });
    });

    it('keeps a flow that has one millisecond left', () => {
      expect(step(awaitingTitle, input('Title', { now: NOW + TTL * 1000 - 1 })).next.state).toBe('awaiting_description');
    });
  });
});
