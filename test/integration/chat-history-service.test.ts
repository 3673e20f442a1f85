import { describe, expect, it } from 'vitest';
import { createChatHistoryService } from '../../shared/chat/chat-history-service.js';
import { createLogger } from '../../shared/logger.js';
import type { StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';

const log = createLogger('silent');
const settings = { maxMessages: 50, ttlSeconds: 600 };

describe('chat history service, clear racing an append', () => {
  const stores = useStores();

  it('never brings back messages cleared between an append’s read and its write', async () => {
    const clock = { now: () => Date.now() };
    const store = stores.hot;
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
