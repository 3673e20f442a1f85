import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

describe('GET /api/health', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  it('answers 200 with both stores ok, without any identity', async () => {
    const response = await fetch(`${stack.api}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-correlation-id')).toMatch(/\S+/);
    expect(await response.json()).toEqual({ status: 'ok', stores: { statestore: 'ok', 'statestore-durable': 'ok' } });
  });

  it('echoes a well-formed correlation id', async () => {
    const response = await fetch(`${stack.api}/health`, { headers: { 'x-correlation-id': 'health-check-0001' } });
    expect(response.headers.get('x-correlation-id')).toBe('health-check-0001');
  });

  it('answers 404 to a POST, as the Azure host does for a method no function serves', async () => {
    const response = await fetch(`${stack.api}/health`, { method: 'POST' });
    expect(response.status).toBe(404);
  });

  it('answers 503 with Retry-After naming the failing stores once the sidecar is gone, and leaks nothing else', async () => {
    await stack.sidecar.close();
    const response = await fetch(`${stack.api}/health`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toEqual({
      status: 'degraded',
      stores: { statestore: 'unavailable', 'statestore-durable': 'unavailable' },
    });
  });
});
