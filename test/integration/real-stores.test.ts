import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_GRACE_SECONDS } from '../../shared/chat/chat-history-service.js';
import { type ComponentSpec, loadStateComponents, type Sidecar, startSidecar } from '../../dev/sidecar/server.js';
import { spawnHostProcess } from '../support/host-process.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { freePort, PrivateRedis } from '../support/redis-server.js';
import { missing } from '../support/services.js';
import { componentsDir, startStack, type Stack } from '../support/stack.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(missing('redis', 'postgres'))('the app on real Redis and PostgreSQL', () => {
  let redis: Redis;
  let db: pg.Client;

  beforeAll(async () => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await redis.connect();
    db = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await db.connect();
  });

  afterAll(async () => {
    redis.disconnect();
    await db.end();
  });

  const startRealSidecar = async (): Promise<Sidecar> =>
    startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir), backends: 'real' });

  it('keeps chat history and tasks across a restart of app and stand-in, in Dapr’s layouts', async () => {
    const user = uniqueId('u');
    let sidecar = await startRealSidecar();
    let app = await spawnHostProcess({ DAPR_HTTP_PORT: String(sidecar.port) });
    const appended = await call('POST', `${app.api}/users/${user}/chat/messages`, { user, body: { role: 'user', content: 'persist me' } });
    expect(appended.status).toBe(201);
    const created = await call('POST', `${app.api}/users/${user}/tasks`, { user, body: { title: 'durable' } });
    expect(created.status).toBe(201);
    await app.stop();
    await sidecar.close();

    // Raw inspection: what a real daprd would read.
    const hash = await redis.hgetall(`state-api||chat:history:${user}`);
    expect(hash).toEqual({ data: expect.any(String), version: '1', 'first-write': '0' });
    expect(JSON.parse(hash.data ?? '')).toMatchObject({ v: 1, messages: [{ content: 'persist me' }] });
    const ttl = await redis.ttl(`state-api||chat:history:${user}`);
    expect(ttl).toBeGreaterThan(86_400 + HISTORY_GRACE_SECONDS - 100);
    expect(ttl).toBeLessThanOrEqual(86_400 + HISTORY_GRACE_SECONDS);
    const { rows } = await db.query('SELECT value, etag::text, expires_at FROM state WHERE key = $1', [`state-api||tasks:user:${user}`]);
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0].value.toString('utf8'))).toMatchObject({ v: 1, revision: 1, tasks: [{ title: 'durable' }] });
    expect(rows[0].etag).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows[0].expires_at).toBeNull();

    sidecar = await startRealSidecar();
    app = await spawnHostProcess({ DAPR_HTTP_PORT: String(sidecar.port) });
    try {
      const history = await call('GET', `${app.api}/users/${user}/chat/messages`, { user });
      expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['persist me']);
      const tasks = await call('GET', `${app.api}/users/${user}/tasks`, { user });
      expect(tasks.body.tasks).toEqual([created.body.task]);
    } finally {
      await app.stop();
      await sidecar.close();
    }
  }, 60_000);

  it('expires through PostgreSQL expires_at, and the clean-up deletes the expired rows', async () => {
    const components = (await loadStateComponents(componentsDir)).map((c) =>
      c.name === 'statestore-durable' ? { ...c, metadata: { ...c.metadata, cleanupInterval: '1s' } } : c,
    );
    const startedAt = Date.now();
    const sidecar = await startSidecar({ appId: 'state-api', components, backends: 'real' });
    try {
      const key = uniqueId('test:ttl:pg');
      const saved = await fetch(`${sidecar.url}/v1.0/state/statestore-durable`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ key, value: 'gone soon', metadata: { ttlInSeconds: '1' } }]),
      });
      expect(saved.status).toBe(204);
      const row = async () => (await db.query('SELECT expires_at FROM state WHERE key = $1', [`state-api||${key}`])).rows;
      const [before] = await row();
      expect(before.expires_at.getTime() - Date.now()).toBeLessThanOrEqual(1500);
      let remaining = await row();
      for (let i = 0; i < 40 && remaining.length > 0; i += 1) {
        await sleep(100);
        remaining = await row();
      }
      expect(remaining).toEqual([]);
      const meta = await db.query("SELECT value::timestamptz AS at FROM dapr_metadata WHERE key = 'last-cleanup-state-v2-'");
      expect(meta.rows[0].at.getTime()).toBeGreaterThanOrEqual(startedAt - 1000);
    } finally {
      await sidecar.close();
    }
  });
});

describe.skipIf(missing('postgres', 'redis-server'))('the app when Redis stops and comes back', () => {
  let privateRedis: PrivateRedis;
  let stack: Stack;

  beforeAll(async () => {
    privateRedis = new PrivateRedis(await freePort());
    await privateRedis.start();
    const components: ComponentSpec[] = (await loadStateComponents(componentsDir)).map((c) =>
      c.name === 'statestore' ? { ...c, metadata: { ...c.metadata, redisHost: `127.0.0.1:${privateRedis.port}` } } : c,
    );
    stack = await startStack({ STATE_BREAKER_HALF_OPEN_MS: '200', DAPR_TIMEOUT_MS: '1000' }, { components, backends: 'real' });
  });

  afterAll(async () => {
    await stack?.close();
    await privateRedis?.stop();
  });

  it('answers BYPASS for tasks and 503 for chat while Redis is down, and recovers when it is back', async () => {
    const user = uniqueId('u');
    const tasksUrl = `${stack.api}/users/${user}/tasks`;
    const chatUrl = `${stack.api}/users/${user}/chat/messages`;
    expect((await call('POST', tasksUrl, { user, body: { title: 'kept in PostgreSQL' } })).status).toBe(201);
    expect((await call('GET', tasksUrl, { user })).headers.get('x-cache')).toBe('HIT');

    await privateRedis.stop();
    const bypass = await call('GET', tasksUrl, { user });
    expect(bypass.status).toBe(200);
    expect(bypass.headers.get('x-cache')).toBe('BYPASS');
    expect(bypass.body.tasks.map((t: { title: string }) => t.title)).toEqual(['kept in PostgreSQL']);
    expect((await call('POST', tasksUrl, { user, body: { title: 'written while Redis is down' } })).status).toBe(201);
    const chat = await call('POST', chatUrl, { user, body: { role: 'user', content: 'hello?' } });
    expect(chat.status).toBe(503);
    expect(chat.headers.get('retry-after')).toMatch(/^\d+$/);

    // Like the real component, the stand-in reports a failed delete, and a failed save that carried
    // an ETag, as 409 "etag mismatch" even though Redis is unreachable; the app still answers 503.
    const raw = (path: string, init: RequestInit) => fetch(`${stack.sidecar.url}/v1.0/state/statestore${path}`, init);
    const rawDelete = await raw(`/chat:session:${user}`, { method: 'DELETE' });
    expect(rawDelete.status).toBe(409);
    expect(await rawDelete.text()).toMatch(/possible etag mismatch.*(connect|ECONNREFUSED|writeable|closed)/i);
    const rawSave = await raw('', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: `chat:session:${user}`, value: {}, etag: '1' }]),
    });
    expect(rawSave.status).toBe(409);
    const sessionDelete = await call('DELETE', `${stack.api}/users/${user}/chat/session`, { user });
    expect(sessionDelete.status).toBe(503);

    await privateRedis.start();
    let recovered = await call('POST', chatUrl, { user, body: { role: 'user', content: 'back again' } });
    for (let i = 0; i < 50 && recovered.status !== 201; i += 1) {
      await sleep(200);
      recovered = await call('POST', chatUrl, { user, body: { role: 'user', content: 'back again' } });
    }
    expect(recovered.status).toBe(201);
    const after = await call('GET', tasksUrl, { user });
    expect(after.headers.get('x-cache')).not.toBe('BYPASS');
    expect(after.body.tasks.map((t: { title: string }) => t.title)).toEqual(['kept in PostgreSQL', 'written while Redis is down']);
  }, 60_000);
});
