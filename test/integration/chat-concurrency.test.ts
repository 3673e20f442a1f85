import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateComponents, startSidecar, type Sidecar } from '../../dev/sidecar/server.js';
import { type HostProcess, spawnHostProcess } from '../support/host-process.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { componentsDir } from '../support/stack.js';

/** Two app instances (separate host processes, separate DaprClients) sharing one sidecar. */
describe('chat history under concurrent appends from two app instances', () => {
  let sidecar: Sidecar;
  let instances: HostProcess[];

  beforeAll(async () => {
    sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    // A generous request budget: this is about losing no append, and on a busy machine 50 writers
    // on one key can queue for longer than the default 5 s (which would answer 503, as it should).
    const settings = {
      DAPR_HOST: '127.0.0.1',
      DAPR_HTTP_PORT: String(sidecar.port),
      CHAT_HISTORY_MAX_MESSAGES: '60',
      REQUEST_TIMEOUT_MS: '60000',
    };
    instances = await Promise.all([spawnHostProcess(settings), spawnHostProcess(settings)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await sidecar.close();
  });

  const url = (instance: number, userId: string) => `${instances[instance % 2]?.api}/users/${userId}/chat/messages`;

  it('acknowledges all 50 appends and keeps all 50, without duplicates', async () => {
    const user = uniqueId('u');
    const sent = Array.from({ length: 50 }, (_, i) => `c-${i}`);
    const responses = await Promise.all(
      sent.map((id, i) => call('POST', url(i, user), { user, body: { role: 'user', content: `message ${i}`, id } })),
    );
    expect(responses.map((r) => r.status)).toEqual(sent.map(() => 201));
    const stored = (await call('GET', `${url(0, user)}?limit=50`, { user })).body;
    const ids = stored.messages.map((m: { id: string }) => m.id);
    expect(ids).toHaveLength(50);
    expect(new Set(ids)).toEqual(new Set(sent));
    expect(stored.hasMore).toBe(false);
    expect(responses.map((r) => r.body.count).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i + 1));
  });

  it('stores one copy when the same message is sent concurrently to both instances', async () => {
    const user = uniqueId('u');
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call('POST', url(i, user), { user, body: { role: 'user', content: 'dup', id: 'same-id' } })),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(9);
    const stored = (await call('GET', url(1, user), { user })).body.messages;
    expect(stored.map((m: { id: string }) => m.id)).toEqual(['same-id']);
  });
});
