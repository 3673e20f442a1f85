import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateComponents, startSidecar, type Sidecar } from '../../dev/sidecar/server.js';
import { createChatHistoryService } from '../../shared/chat/chat-history-service.js';
import { createLogger } from '../../shared/logger.js';
import { connectDaprSidecar, createDaprStateStore, type DaprSidecar } from '../../shared/state/dapr-state-store.js';
import type { StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';
import { componentsDir } from '../support/stack.js';

const log = createLogger('silent');
const settings = { maxMessages: 50, ttlSeconds: 600 };

describe('chat history service, clear racing an append', () => {
  let sidecar: Sidecar;
  let connection: DaprSidecar;
  let store: StateStore;

  beforeAll(async () => {
    sidecar = await startSidecar({ appId: 'state-api', components: await loadStateComponents(componentsDir) });
    connection = connectDaprSidecar({ host: '127.0.0.1', httpPort: sidecar.port });
    store = createDaprStateStore(connection, 'statestore', { timeoutMs: 2000 });
  });

  afterAll(async () => {
    await connection.close();
    await sidecar.close();
  });

  it('never brings back messages cleared between an append’s read and its write', async () => {
    const clock = { now: () => Date.now() };
    const service = createChatHistoryService({ store, clock, settings });
    const user = uniqueId('u');
    await service.append(user, { role: 'user', content: 'old 1' }, log);
    await service.append(user, { role: 'user', content: 'old 2' }, log);

    let cleared = false;
    const clearsAfterFirstRead: StateStore = {
      ...store,
      async get(key) {
        const entry = await store.get(key);
        if (!cleared) {
          cleared = true;
          await service.clear(user);
        }
        return entry;
      },
    };
    const racing = createChatHistoryService({ store: clearsAfterFirstRead, clock, settings });
    await racing.append(user, { role: 'user', content: 'new' }, log);

    const page = await service.list(user, { limit: 50 });
    expect(page.messages.map((m) => m.content)).toEqual(['new']);
  });
});
