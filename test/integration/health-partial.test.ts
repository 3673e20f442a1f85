import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateComponents } from '../../dev/sidecar/server.js';
import { componentsDir, startStack, type Stack } from '../support/stack.js';

describe('GET /api/health with only one store configured in the sidecar', () => {
  let stack: Stack;

  beforeAll(async () => {
    const components = (await loadStateComponents(componentsDir)).filter((c) => c.name === 'statestore');
    stack = await startStack({}, { components });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('answers 503 degraded and names the missing store', async () => {
    const response = await fetch(`${stack.api}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'degraded',
      stores: { statestore: 'ok', 'statestore-durable': 'unavailable' },
    });
  });
});
