import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startSidecar } from '../../dev/sidecar/server.js';
import { APP_ID, postJson, read, useHarness } from './helpers.js';

const h = useHarness();

describe('GET /v1.0/metadata', () => {
  it('reports the app id and every state store with its capabilities', async () => {
    const { status, body } = await read(await fetch(h.url('/metadata')));
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: APP_ID,
      components: [
        { name: 'statestore', type: 'state.redis', version: 'v1', capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL'] },
        { name: 'statestore-durable', type: 'state.postgresql', version: 'v2', capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL'] },
      ],
    });
  });
});

describe('health', () => {
  it('answers 204 on /healthz and /healthz/outbound', async () => {
    expect((await fetch(h.url('/healthz'))).status).toBe(204);
    expect((await fetch(h.url('/healthz/outbound'))).status).toBe(204);
  });
});

describe('unknown routes', () => {
  it('answer 404', async () => {
    expect((await fetch(h.url('/nothing'))).status).toBe(404);
    expect((await fetch(`${h.sidecar.url}/v2.0/state/statestore/k`)).status).toBe(404);
    expect((await fetch(h.url('/state/statestore/a/b'))).status).toBe(404);
    expect((await fetch(h.url('/state/statestore'))).status).toBe(404);
  });
});

describe('a sidecar without state stores', () => {
  it('answers 500 ERR_STATE_STORE_NOT_CONFIGURED', async () => {
    const empty = await startSidecar({ appId: APP_ID, components: [] });
    try {
      const { status, body } = await read(await postJson(`${empty.url}/v1.0/state/statestore`, [{ key: 'k', value: 1 }]));
      expect(status).toBe(500);
      expect(body).toMatchObject({ errorCode: 'ERR_STATE_STORE_NOT_CONFIGURED' });
    } finally {
      await empty.close();
    }
  });
});

describe('close()', () => {
  it('returns while a client still holds a keep-alive connection', async () => {
    const sidecar = await startSidecar({ appId: APP_ID, components: [] });
    const agent = new Agent({ keepAlive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        request(`${sidecar.url}/v1.0/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
          .on('error', reject)
          .end();
      });
      // Without closing keep-alive sockets, close() would hang until the test times out.
      await expect(sidecar.close()).resolves.toBeUndefined();
    } finally {
      agent.destroy();
    }
  });
});
