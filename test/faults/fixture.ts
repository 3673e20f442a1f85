import { expect } from 'vitest';
import { type ComponentSpec, loadStateComponents } from '../../dev/sidecar/server.js';
import { type CallResult, call } from '../support/http.js';
import { freePort, PrivateRedis } from '../support/redis-server.js';
import { PrivateDatabase } from '../support/private-database.js';
import { componentsDir, type Stack, startStack } from '../support/stack.js';

/**
 * The fault suite's world: the whole app (host + stand-in with real backends) on a private
 * redis-server this suite starts and a PostgreSQL database it creates, so it can kill, pause and
 * lock them without touching the shared servers other suites use. One per test file (settings are
 * read when the function files load).
 */

/** Short enough for a quick suite; the request budget is below two store timeouts on purpose. */
export const FAULT_SETTINGS = {
  DAPR_TIMEOUT_MS: 1000,
  REQUEST_TIMEOUT_MS: 1500,
  STATE_BREAKER_THRESHOLD: 3,
  STATE_BREAKER_HALF_OPEN_MS: 3000,
} as const;
/** Scheduling slack on a loaded machine; far below what an unbounded request would add. */
export const SLACK_MS = 1500;
/** How long after a server is back a route must work again: the circuit's half-open delay, the stand-in's reconnect (≤ 1 s) and a margin. */
export const RECOVERY_BOUND_MS = FAULT_SETTINGS.STATE_BREAKER_HALF_OPEN_MS + 1000 + 3000;

export interface FaultStack extends Stack {
  redis: PrivateRedis;
  database: PrivateDatabase;
  /** Stand-in round trips to one store so far (`bulk` = every read, `save`, `transaction`, …). */
  storeCalls(store: 'statestore' | 'statestore-durable'): number;
}

export async function startFaultStack(settings: Record<string, string> = {}): Promise<FaultStack> {
  const redis = new PrivateRedis(await freePort());
  const database = new PrivateDatabase('fault');
  await redis.start();
  try {
    return await startOn(redis, database, settings);
  } catch (error) {
    // Nothing of what was started may outlive a failed start (the suites' afterAll sees no stack).
    await redis.stop();
    await database.drop();
    throw error;
  }
}

async function startOn(redis: PrivateRedis, database: PrivateDatabase, settings: Record<string, string>): Promise<FaultStack> {
  await database.create();
  const components: ComponentSpec[] = (await loadStateComponents(componentsDir)).map((c) => {
    if (c.name === 'statestore') return { ...c, metadata: { ...c.metadata, redisHost: `127.0.0.1:${redis.port}` } };
    if (c.name === 'statestore-durable') return { ...c, metadata: { ...c.metadata, connectionString: database.connectionString } };
    return c;
  });
  const stringified = Object.fromEntries(Object.entries(FAULT_SETTINGS).map(([name, value]) => [name, String(value)]));
  const stack = await startStack({ ...stringified, ...settings }, { components, backends: 'real' });
  // The first request loads the Dapr SDK and waits for the sidecar: not what the suite measures.
  try {
    await recoveryTime(() => call('GET', `${stack.api}/health`), 200, 20_000);
  } catch (error) {
    await stack.close();
    throw error;
  }
  return {
    ...stack,
    redis,
    database,
    storeCalls(store) {
      const counts = stack.sidecar.journal.counts();
      return Object.entries(counts)
        .filter(([name]) => name.endsWith(`:${store}`))
        .reduce((sum, [, count]) => sum + count, 0);
    },
    async close() {
      await stack.close();
      await redis.stop();
      await database.drop();
    },
  };
}

/** One API call, timed (ms from sending to the whole answer read). */
export async function timedCall(
  method: string,
  url: string,
  options: Parameters<typeof call>[2] = {},
): Promise<CallResult & { ms: number }> {
  const started = performance.now();
  const result = await call(method, url, options);
  return { ...result, ms: performance.now() - started };
}

/** What every answer during an outage must be: 503 with Retry-After, the public error shape, within the budget. */
export function expectUnavailable(response: CallResult & { ms: number }): void {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(response.body).toMatchObject({ error: { code: 'unavailable' }, correlationId: expect.any(String) });
  expect(response.ms).toBeLessThan(FAULT_SETTINGS.REQUEST_TIMEOUT_MS + SLACK_MS);
}

/** Never a 500, whatever happened; for answers that may legitimately be 2xx too (e.g. a cache bypass). */
export function expectNoInternalError(response: CallResult & { ms: number }): void {
  expect(response.status).not.toBe(500);
  expect(response.ms).toBeLessThan(FAULT_SETTINGS.REQUEST_TIMEOUT_MS + SLACK_MS);
  if (response.status === 503) expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
}

/**
 * Calls `probe` every 100 ms until it answers `ok`; returns how long that took (ms). Fails past
 * `boundMs`, naming the last status seen.
 */
export async function recoveryTime(probe: () => Promise<CallResult>, ok: number, boundMs = RECOVERY_BOUND_MS): Promise<number> {
  const started = performance.now();
  let last: CallResult | undefined;
  while (performance.now() - started < boundMs) {
    last = await probe();
    expect(last.status).not.toBe(500);
    if (last.status === ok) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not recovered within ${boundMs} ms; last answer ${last?.status} ${JSON.stringify(last?.body)}`);
}
