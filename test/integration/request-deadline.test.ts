import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultySidecar } from '../support/faulty-sidecar.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

const DAPR_TIMEOUT_MS = 2500;
const REQUEST_TIMEOUT_MS = 3000;
/** For a loaded machine; well under the extra DAPR_TIMEOUT_MS a second unbounded call would take. */
const SLACK_MS = 1500;

describe('every request answers within REQUEST_TIMEOUT_MS, however many store calls it makes', () => {
  let stack: Stack;
  let hung: Awaited<ReturnType<typeof startFaultySidecar>>;

  beforeAll(async () => {
    hung = await startFaultySidecar('hang');
    stack = await startStack({
      DAPR_HTTP_PORT: String(hung.port),
      DAPR_TIMEOUT_MS: String(DAPR_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      STATE_BREAKER_THRESHOLD: '1000',
    });
  });

  afterAll(async () => {
    await stack?.close();
    await hung?.close();
  });

  it('answers health with 503 and Retry-After within the budget (and warms the app up)', async () => {
    const started = performance.now();
    const response = await call('GET', `${stack.api}/health`);
    expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('answers a task list (cache, then durable store) with 503 and Retry-After at the budget when the sidecar hangs', async () => {
    const user = uniqueId('u');
    const started = performance.now();
    const response = await call('GET', `${stack.api}/users/${user}/tasks`, { user });
    const elapsed = performance.now() - started;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(response.body).toMatchObject({ error: { code: 'unavailable' } });
    // Two calls of DAPR_TIMEOUT_MS each would take 5 s; the budget ends them at 3 s.
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
  });
});
