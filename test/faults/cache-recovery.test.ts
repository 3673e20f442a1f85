import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackendFactory,
  loadStateComponents,
  memoryBackends,
  realBackends,
  type Sidecar,
  startSidecar,
} from '../../dev/sidecar/server.js';
import { type HostProcess, spawnHostProcess } from '../support/host-process.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { freePort, PrivateRedis } from '../support/redis-server.js';
import { missing } from '../support/services.js';
import { componentsDir } from '../support/stack.js';

/**
 * The cache store (a private redis-server) hangs with SIGSTOP while one app instance changes a
 * task list; another instance, which had the old list cached, must show the change within 10 s of
 * the store's recovery (docs/http-api.md, Tasks), not when the old entry's TTL runs out.
 */
describe.skipIf(missing('redis-server'))('tasks after the cache store hung (private Redis, SIGSTOP)', () => {
  let redis: PrivateRedis;
  let sidecar: Sidecar;
  let writer: HostProcess;
  let reader: HostProcess;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    const privateRedis: BackendFactory = (component, context) =>
      component.type === 'state.redis'
        ? realBackends({ ...component, metadata: { ...component.metadata, redisHost: `127.0.0.1:${redis.port}` } }, context)
        : memoryBackends(component, context);
    sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir), createBackend: privateRedis });
    const settings = { DAPR_HTTP_PORT: String(sidecar.port), DAPR_TIMEOUT_MS: '500', TASK_CACHE_TTL_SECONDS: '300' };
    [writer, reader] = await Promise.all([spawnHostProcess(settings), spawnHostProcess(settings)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([writer?.stop(), reader?.stop()]);
    await sidecar?.close();
    await redis?.stop();
  });

  it('shows a task created while Redis was paused to another instance within 10 s of recovery', async () => {
    const user = uniqueId('u');
    const tasks = (app: HostProcess) => `${app.api}/users/${user}/tasks`;
    expect((await call('POST', tasks(writer), { user, body: { title: 'before' } })).status).toBe(201);
    const cached = await call('GET', tasks(reader), { user });
    expect(cached.headers.get('x-cache')).toBe('HIT');

    redis.signal('SIGSTOP');
    try {
      const during = await call('POST', tasks(writer), { user, body: { title: 'during' } });
      expect(during.status).toBe(201);
    } finally {
      redis.signal('SIGCONT');
    }
    const recovered = Date.now();

    let titles: string[] = [];
    while (Date.now() - recovered < 10_000) {
      const response = await call('GET', tasks(reader), { user });
      titles = response.status === 200 ? response.body.tasks.map((t: { title: string }) => t.title) : [];
      if (titles.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(titles).toEqual(['before', 'during']);
  }, 60_000);
});
