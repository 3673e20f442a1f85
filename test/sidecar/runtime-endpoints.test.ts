import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DAPRD_VERSION, startSidecar } from '../../dev/sidecar/server.js';
import { APP_ID, postJson, read, useHarness } from './helpers.js';

const h = useHarness();

describe('GET /v1.0/metadata', () => {
  it("answers daprd 1.16.4's document: app id, version, state stores with capabilities, no empty lists", async () => {
    const response = await fetch(h.url('/metadata'));
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await read(response)).toEqual({
      status: 200,
      etag: null,
      body: {
        id: APP_ID,
        runtimeVersion: '1.16.4',
        components: [
          { name: 'statestore', type: 'state.redis', version: 'v1', capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR'] },
          {
            name: 'statestore-durable',
            type: 'state.postgresql',
            version: 'v2',
            capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR'],
          },
        ],
        extended: { daprRuntimeVersion: '1.16.4' },
        appConnectionProperties: { protocol: 'http', channelAddress: '127.0.0.1' },
        actorRuntime: { runtimeStatus: 'DISABLED', hostReady: false, placement: 'placement: disconnected' },
        workflows: {},
      },
    });
    expect(DAPRD_VERSION).toBe('1.16.4');
  });
});

describe('PUT /v1.0/metadata/{key}', () => {
  it('keeps the body as an extended attribute, and cannot replace the runtime version', async () => {
    const sidecar = await startSidecar({ appId: APP_ID, components: [] });
    try {
      const put = (key: string, value: string) => fetch(`${sidecar.url}/v1.0/metadata/${key}`, { method: 'PUT', body: value });
      expect((await put('owner', 'chat team')).status).toBe(204);
      expect((await put('daprRuntimeVersion', '0.0.1')).status).toBe(204);
      const { body } = await read(await fetch(`${sidecar.url}/v1.0/metadata`));
      expect(body).toMatchObject({ extended: { owner: 'chat team', daprRuntimeVersion: '1.16.4' } });
      expect(body).not.toHaveProperty('components');
    } finally {
      await sidecar.close();
    }
  });
});

describe('health', () => {
  it('answers 204 with no body on /healthz and /healthz/outbound', async () => {
    for (const path of ['/healthz', '/healthz/outbound', `/healthz?appid=${APP_ID}`]) {
      const response = await fetch(h.url(path));
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
    }
  });

  it('answers 500 ERR_HEALTH_APPID_NOT_MATCH when ?appid names another app', async () => {
    expect(await read(await fetch(h.url('/healthz?appid=someone-else')))).toEqual({
      status: 500,
      etag: null,
      body: { errorCode: 'ERR_HEALTH_APPID_NOT_MATCH', message: 'dapr app-id does not match' },
    });
  });
});

describe('requests no route takes', () => {
  const fallback = { errorCode: 'ERR_DIRECT_INVOKE', message: 'failed getting app id either from the URL path or the header dapr-app-id' };

  it("get daprd's fallback answer: 404 ERR_DIRECT_INVOKE, for unknown paths and for known paths with another method", async () => {
    const calls: Array<[string, string]> = [
      ['GET', h.url('/nothing')],
      ['GET', `${h.sidecar.url}/v2.0/state/statestore/k`],
      ['GET', h.url('/state/statestore/a/b')],
      ['GET', h.url('/state/statestore')],
      ['PUT', h.url('/state/statestore/k')],
      ['POST', h.url('/healthz')],
      ['DELETE', h.url('/metadata')],
      ['GET', `${h.sidecar.url}/v1.0-alpha1/state/statestore/query`],
    ];
    for (const [method, url] of calls) {
      expect({ method, url, ...(await read(await fetch(url, { method }))) }).toEqual({
        method,
        url,
        status: 404,
        etag: null,
        body: fallback,
      });
    }
  });

  it('leave the call journal answering', async () => {
    await fetch(h.url('/nothing'));
    const journal = await fetch(`${h.sidecar.url}/_standin/calls`);
    expect(journal.status).toBe(200);
  });
});

describe('trace headers on answers', () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';

  it("continue the caller's trace with a new span id and its sampled flag, and echo tracestate", async () => {
    const response = await fetch(h.url('/state/statestore/k'), {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01`, tracestate: 'congo=t61rcWkgMzE' },
    });
    const traceparent = response.headers.get('traceparent') ?? '';
    expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(traceparent).not.toContain('b7ad6b7169203331');
    expect(response.headers.get('tracestate')).toBe('congo=t61rcWkgMzE');
  });

  it('start an unsampled trace when the caller sent none, on errors too', async () => {
    const response = await fetch(h.url('/state/nope/k'));
    expect(response.status).toBe(400);
    expect(response.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  it('are left off health checks, which daprd does not trace', async () => {
    const response = await fetch(h.url('/healthz'), { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    expect(response.headers.get('traceparent')).toBeNull();
  });
});

describe('a sidecar without state stores', () => {
  it('answers 500 ERR_STATE_STORE_NOT_CONFIGURED naming the store and the app', async () => {
    const empty = await startSidecar({ appId: APP_ID, components: [] });
    try {
      const { status, body } = await read(await postJson(`${empty.url}/v1.0/state/statestore`, [{ key: 'k', value: 1 }]));
      expect(status).toBe(500);
      expect(body).toEqual({
        errorCode: 'ERR_STATE_STORE_NOT_CONFIGURED',
        message: 'state store statestore is not configured',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            domain: 'dapr.io',
            metadata: { appID: APP_ID },
            reason: 'DAPR_STATE_NOT_CONFIGURED',
          },
        ],
      });
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
