import { describe, expect, it } from 'vitest';
import { createChatSessionService } from '../../shared/chat/chat-session-service.js';
import { Conflict, NotFound, Unavailable } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { createSessionsService, sessionKey } from '../../shared/sessions/sessions-service.js';
import type { StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';

const log = createLogger('silent');

describe('the sessions service over time', () => {
  const stores = useStores();
  const setup = () => {
    const clock = { at: Date.now(), now: () => clock.at };
    const advance = (seconds: number) => {
      clock.at += seconds * 1000;
      stores.now += seconds * 1000;
    };
    return { advance, sessions: createSessionsService({ store: stores.hot, clock }) };
  };

  it('expires a session after its TTL', async () => {
    const { advance, sessions } = setup();
    const id = uniqueId('sess-ttl-000000');
    await sessions.put(id, 'alice', { data: { a: 1 }, ttlSeconds: 60, sliding: false }, log);
    advance(59);
    expect((await sessions.get(id, 'alice', log)).data).toEqual({ a: 1 });
    advance(2);
    await expect(sessions.get(id, 'alice', log)).rejects.toBeInstanceOf(NotFound);
  });

  it('does not move a fixed session’s expiry on read', async () => {
    const { advance, sessions } = setup();
    const id = uniqueId('sess-fixed-0000');
    const { expiresAt } = await sessions.put(id, 'alice', { data: {}, ttlSeconds: 60, sliding: false }, log);
    advance(30);
    expect((await sessions.get(id, 'alice', log)).expiresAt).toBe(expiresAt);
  });

  it('moves a sliding session’s expiry forward on each read, so an active session stays', async () => {
    const { advance, sessions } = setup();
    const id = uniqueId('sess-slide-0000');
    const { expiresAt } = await sessions.put(id, 'alice', { data: { s: 1 }, ttlSeconds: 60, sliding: true }, log);
    for (let i = 0; i < 4; i += 1) {
      advance(45);
      const read = await sessions.get(id, 'alice', log);
      expect(Date.parse(read.expiresAt)).toBeGreaterThan(Date.parse(expiresAt));
    }
    advance(61);
    await expect(sessions.get(id, 'alice', log)).rejects.toBeInstanceOf(NotFound);
  });

  it('does not slide a session for someone who does not own it', async () => {
    const { sessions } = setup();
    const id = uniqueId('sess-foreign-00');
    const { expiresAt } = await sessions.put(id, 'alice', { data: {}, ttlSeconds: 60, sliding: true }, log);
    await expect(sessions.get(id, 'mallory', log)).rejects.toBeInstanceOf(NotFound);
    const stored = await stores.hot.get(sessionKey(id));
    expect(stored?.value).toMatchObject({ owner: 'alice', expiresAt });
  });

  it('lets another caller claim an id only once the session has expired', async () => {
    const { advance, sessions } = setup();
    const id = uniqueId('sess-claim-0000');
    await sessions.put(id, 'alice', { data: {}, ttlSeconds: 60, sliding: false }, log);
    await expect(sessions.put(id, 'bob', { data: {}, ttlSeconds: 60, sliding: false }, log)).rejects.toBeInstanceOf(NotFound);
    advance(61);
    await sessions.put(id, 'bob', { data: { b: 1 }, ttlSeconds: 60, sliding: false }, log);
    expect((await sessions.get(id, 'bob', log)).data).toEqual({ b: 1 });
  });

  it('keeps a deleted session deleted even if a sliding read was in flight', async () => {
    const { sessions } = setup();
    const id = uniqueId('sess-race-00000');
    await sessions.put(id, 'alice', { data: { s: 1 }, ttlSeconds: 60, sliding: true }, log);
    // The owner logs out right after a sliding read (due to extend: 10 s of 60 have passed) loaded the session.
    let reads = 0;
    const racing = createSessionsService({
      clock: { now: () => Date.now() + 10_000 },
      store: {
        ...stores.hot,
        async get(key) {
          const entry = await stores.hot.get(key);
          reads += 1;
          if (reads === 1) await sessions.delete(id, 'alice', log);
          return entry;
        },
      },
    });
    // The read came before the delete, so it answers what it read; its extension loses to the delete.
    expect((await racing.get(id, 'alice', log)).data).toEqual({ s: 1 });
    await expect(sessions.get(id, 'alice', log)).rejects.toBeInstanceOf(NotFound);
    expect((await stores.hot.get(sessionKey(id)))?.value).toEqual({ kind: 'deleted' });
  });
});

describe('sliding session reads', () => {
  const stores = useStores();
  const journal = () => stores.sidecar.journal;

  it('extends only once a tenth of the TTL has passed: a read before that is one store call and writes nothing', async () => {
    const clock = { at: Date.now(), now: () => clock.at };
    const sessions = createSessionsService({ store: stores.hot, clock });
    const id = uniqueId('sess-tenth-0000');
    const { expiresAt } = await sessions.put(id, 'alice', { data: {}, ttlSeconds: 600, sliding: true }, log);

    clock.at += 60_000; // exactly a tenth
    journal().reset();
    expect((await sessions.get(id, 'alice', log)).expiresAt).toBe(expiresAt);
    expect(journal().stateCalls()).toBe(1);
    expect(journal().counts()['save:statestore']).toBeUndefined();

    clock.at += 1000; // now more than a tenth
    journal().reset();
    const extended = await sessions.get(id, 'alice', log);
    expect(extended.expiresAt).toBe(new Date(clock.at + 600_000).toISOString());
    expect(journal().stateCalls()).toBe(2);
    expect((await stores.hot.get(sessionKey(id)))?.value).toMatchObject({ expiresAt: extended.expiresAt });
  });

  it('answers 150 concurrent reads of one sliding session with 200, none with 409, and extends it', async () => {
    const clock = { at: Date.now(), now: () => clock.at };
    const sessions = createSessionsService({ store: stores.hot, clock });
    const id = uniqueId('sess-crowd-0000');
    const { expiresAt } = await sessions.put(id, 'alice', { data: { n: 1 }, ttlSeconds: 600, sliding: true }, log);
    clock.at += 120_000; // every read is due to extend
    const outcomes = await Promise.allSettled(Array.from({ length: 150 }, () => sessions.get(id, 'alice', log)));
    // On a loaded machine a read may time out (503); what must never happen is a 409.
    const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(errors.filter((e) => e instanceof Conflict)).toEqual([]);
    expect(errors.filter((e) => !(e instanceof Unavailable))).toEqual([]);
    const answered = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(answered.length).toBeGreaterThan(75);
    for (const read of answered) expect(read.data).toEqual({ n: 1 });
    const stored = (await stores.hot.get(sessionKey(id)))?.value as { expiresAt: string };
    expect(Date.parse(stored.expiresAt)).toBeGreaterThan(Date.parse(expiresAt));
  });
});

describe('session writes whose outcome is unknown', () => {
  const stores = useStores();
  const clock = { now: () => Date.now() };

  /** The hot store, except that saves are applied (or not) and then answered with an outcome-unknown 503. */
  const unanswered = (apply: boolean): StateStore => ({
    ...stores.hot,
    async save(key, value, options) {
      if (apply) await stores.hot.save(key, value, options);
      throw new Unavailable('no answer after sending', { outcomeUnknown: true });
    },
  });

  it('answers a PUT and a DELETE that landed as successes, found by reading back', async () => {
    const id = uniqueId('sess-unknown-00');
    const sessions = createSessionsService({ store: unanswered(true), clock });
    const { expiresAt } = await sessions.put(id, 'alice', { data: { a: 1 }, ttlSeconds: 60, sliding: false }, log);
    expect((await stores.hot.get(sessionKey(id)))?.value).toMatchObject({ kind: 'live', data: { a: 1 }, expiresAt });
    await sessions.delete(id, 'alice', log);
    expect((await stores.hot.get(sessionKey(id)))?.value).toEqual({ kind: 'deleted' });
  });

  it('answers 503 with the outcome unknown when the read-back does not find the write', async () => {
    const id = uniqueId('sess-unknown-00');
    const sessions = createSessionsService({ store: unanswered(false), clock });
    const error = await sessions.put(id, 'alice', { data: {}, ttlSeconds: 60, sliding: false }, log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Unavailable).outcomeUnknown).toBe(true);
  });

  it('answers a chat session PUT and DELETE that landed as successes', async () => {
    const user = uniqueId('u');
    const unansweredDelete: StateStore = {
      ...unanswered(true),
      async delete(key, options) {
        await stores.hot.delete(key, options);
        throw new Unavailable('no answer after sending', { outcomeUnknown: true });
      },
    };
    const chatSessions = createChatSessionService({ store: unansweredDelete, clock, ttlSeconds: 60 });
    const saved = await chatSessions.put(user, { topic: 'x' });
    expect(await chatSessions.get(user)).toEqual(saved);
    await chatSessions.delete(user);
    expect(await chatSessions.get(user)).toBeNull();
  });
});
