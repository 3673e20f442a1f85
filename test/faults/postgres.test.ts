import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { missing } from '../support/services.js';
import {
  expectUnavailable,
  FAULT_SETTINGS,
  type FaultStack,
  RECOVERY_BOUND_MS,
  recoveryTime,
  startFaultStack,
  timedCall,
} from './fixture.js';

describe.skipIf(missing('postgres', 'redis-server'))('faults: the PostgreSQL behind statestore-durable', () => {
  let world: FaultStack;

  beforeAll(async () => {
    world = await startFaultStack();
  });

  afterAll(async () => {
    await world?.close();
  });

  const tasks = (user: string) => `${world.api}/users/${user}/tasks`;

  it('answers durable routes 503 within the budget while the state table is locked, and recovers when it is released', async () => {
    const user = uniqueId('u');
    expect((await call('POST', tasks(user), { user, body: { title: 'before the lock' } })).status).toBe(201);

    const release = await world.database.lockStateTable();
    try {
      // A read the cache cannot answer, a write, and a profile read: all wait on the lock.
      const reader = uniqueId('u');
      const answers = await Promise.all([
        timedCall('GET', tasks(reader), { user: reader }),
        timedCall('POST', tasks(user), { user, body: { title: 'during the lock' } }),
        timedCall('GET', `${world.api}/users/${reader}/profile`, { user: reader }),
      ]);
      for (const answer of answers) expectUnavailable(answer);
      const health = await timedCall('GET', `${world.api}/health`);
      expect(health.status).toBe(503);
      expect(health.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(health.body).toEqual({ status: 'degraded', stores: { statestore: 'ok', 'statestore-durable': 'unavailable' } });

      // The circuit is open by now: answers come without a round trip to the stand-in.
      const before = world.storeCalls('statestore-durable');
      for (let i = 0; i < FAULT_SETTINGS.STATE_BREAKER_THRESHOLD; i += 1) {
        const other = uniqueId('u');
        expectUnavailable(await timedCall('POST', tasks(other), { user: other, body: { title: 'refused fast' } }));
      }
      expect(world.storeCalls('statestore-durable')).toBe(before);
    } finally {
      await release();
    }

    const reader = uniqueId('u');
    const recoveredAfter = await recoveryTime(() => call('GET', tasks(reader), { user: reader }), 200);
    console.info(
      `faults: PostgreSQL state table locked and released; tasks served again ${Math.round(recoveredAfter)} ms after the release (bound ${RECOVERY_BOUND_MS} ms)`,
    );
    const titles = (await call('GET', tasks(user), { user })).body.tasks.map((t: { title: string }) => t.title);
    expect(titles[0]).toBe('before the lock');
  }, 60_000);
});
