import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type Sidecar } from '../../dev/sidecar/server.js';
import { redisStore } from './helpers.js';

describe('the stand-in call journal', () => {
  let sidecar: Sidecar;
  beforeAll(async () => {
    sidecar = await startSidecar({ appId: 'journal-app', components: [redisStore] });
  });
  afterAll(() => sidecar.close());

  it('counts state calls by operation and store, and keeps the traceparent each one carried', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await fetch(`${sidecar.url}/v1.0/state/statestore`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent },
      body: JSON.stringify([{ key: 'a', value: 1 }]),
    });
    await fetch(`${sidecar.url}/v1.0/state/statestore/a`);
    await fetch(`${sidecar.url}/v1.0/state/statestore/bulk`, { method: 'POST', body: JSON.stringify({ keys: ['a'] }) });
    await fetch(`${sidecar.url}/v1.0/state/statestore/a`, { method: 'DELETE' });
    await fetch(`${sidecar.url}/v1.0/metadata`);

    expect(sidecar.journal.counts()).toEqual({
      'save:statestore': 1,
      'get:statestore': 1,
      'bulk:statestore': 1,
      'delete:statestore': 1,
      metadata: 1,
    });
    expect(sidecar.journal.stateCalls()).toBe(4);
    expect(sidecar.journal.entries()[0]).toMatchObject({ method: 'POST', operation: 'save', traceparent });
    expect(sidecar.journal.entries()[1]?.traceparent).toBeUndefined();
  });

  it('reports over HTTP and resets on DELETE, without counting its own requests', async () => {
    const report = await (await fetch(`${sidecar.url}/_standin/calls`)).json();
    expect(report).toMatchObject({ stateCalls: sidecar.journal.stateCalls() });
    expect((await fetch(`${sidecar.url}/_standin/calls`, { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(`${sidecar.url}/_standin/calls`)).json()).toEqual({ total: 0, stateCalls: 0, counts: {} });
  });
});
