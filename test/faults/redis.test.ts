import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { missing } from '../support/services.js';
import {
  expectNoInternalError,
  expectUnavailable,
  FAULT_SETTINGS,
  type FaultStack,
  RECOVERY_BOUND_MS,
  recoveryTime,
  startFaultStack,
  timedCall,
} from './fixture.js';

describe.skipIf(missing('postgres', 'redis-server'))('faults: the Redis behind statestore', () => {
  let world: FaultStack;

  beforeAll(async () => {
    world = await startFaultStack();
  });

  afterAll(async () => {
    await world?.close();
  });

  const history = (user: string) => `${world.api}/users/${user}/chat/messages`;

  it('answers 503 with Retry-After (never 500) while Redis is dead, opens the circuit, and closes it once Redis is back', async () => {
    const user = uniqueId('u');
    expect((await call('POST', history(user), { user, body: { role: 'user', content: 'before' } })).status).toBe(201);

    await world.redis.stop();
    // Consecutive store failures, up to the breaker's threshold: every one a proper 503.
    for (let i = 0; i < FAULT_SETTINGS.STATE_BREAKER_THRESHOLD; i += 1) {
      expectUnavailable(await timedCall('GET', history(user), { user }));
    }
    const write = await timedCall('POST', history(user), { user, body: { role: 'user', content: 'while dead' } });
    expectUnavailable(write);

    // The circuit is open: answers come without a round trip to the stand-in.
    const before = world.storeCalls('statestore');
    for (let i = 0; i < 3; i += 1) {
      const other = uniqueId('u');
      expectUnavailable(await timedCall('GET', history(other), { user: other }));
    }
    expect(world.storeCalls('statestore')).toBe(before);
    const health = await timedCall('GET', `${world.api}/health`);
    expect(health.status).toBe(503);
    expect(health.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(health.body).toEqual({ status: 'degraded', stores: { statestore: 'unavailable', 'statestore-durable': 'ok' } });

    await world.redis.start();
    const recoveredAfter = await recoveryTime(() => call('GET', history(user), { user }), 200);
    console.info(
      `faults: Redis killed and restarted; chat history served again ${Math.round(recoveredAfter)} ms after the restart (bound ${RECOVERY_BOUND_MS} ms)`,
    );
    expect((await call('GET', `${world.api}/health`)).status).toBe(200);
  }, 60_000);

  it('keeps every request within its budget while Redis is paused (SIGSTOP), and recovers after SIGCONT', async () => {
    const user = uniqueId('u');
    expect((await call('POST', history(user), { user, body: { role: 'user', content: 'before' } })).status).toBe(201);
    const tasksUser = uniqueId('u');
    expect((await call('POST', `${world.api}/users/${tasksUser}/tasks`, { user: tasksUser, body: { title: 'kept' } })).status).toBe(201);

    world.redis.signal('SIGSTOP');
    try {
      // Concurrent reads and writes against a server that accepts and never answers.
      const other = uniqueId('u');
      const answers = await Promise.all([
        timedCall('GET', history(user), { user }),
        timedCall('GET', history(other), { user: other }),
        timedCall('POST', history(user), { user, body: { role: 'user', content: 'paused' } }),
        timedCall('PUT', `${world.api}/users/${user}/chat/session`, { user, body: { step: 2 } }),
      ]);
      for (const answer of answers) expectUnavailable(answer);
      // Tasks live in PostgreSQL: a hung cache costs time, never the answer, and never the budget.
      const tasks = await timedCall('GET', `${world.api}/users/${tasksUser}/tasks`, { user: tasksUser });
      expectNoInternalError(tasks);
      for (let i = 0; i < FAULT_SETTINGS.STATE_BREAKER_THRESHOLD; i += 1)
        expectUnavailable(await timedCall('GET', history(user), { user }));
      expectUnavailable(await timedCall('GET', history(other), { user: other }));
    } finally {
      world.redis.signal('SIGCONT');
    }
    const recoveredAfter = await recoveryTime(() => call('GET', history(user), { user }), 200);
    console.info(
      `faults: Redis paused and resumed; chat history served again ${Math.round(recoveredAfter)} ms after SIGCONT (bound ${RECOVERY_BOUND_MS} ms)`,
    );
    const messages = (await call('GET', history(user), { user })).body.messages.map((m: { content: string }) => m.content);
    expect(messages[0]).toBe('before');
  }, 60_000);
});
