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

describe('chat history service, expiry', () => {
  const stores = useStores();
  const TTL = 600;

  function service(store: StateStore = stores.hot) {
    const clock = { at: Date.now(), now: () => clock.at };
    return { clock, history: createChatHistoryService({ store, clock, settings: { maxMessages: 50, ttlSeconds: TTL } }) };
  }

  it('expires the history TTL seconds after the last append, and starts afresh', async () => {
    const { clock, history } = service();
    const user = uniqueId('u');
    await history.append(user, { role: 'user', content: 'old' }, log);
    clock.at += (TTL - 1) * 1000;
    expect((await history.list(user, { limit: 50 })).messages).toHaveLength(1);
    clock.at += 1000;
    expect(await history.list(user, { limit: 50 })).toEqual({ messages: [], hasMore: false });
    const next = await history.append(user, { role: 'user', content: 'new' }, log);
    expect(next.count).toBe(1);
    expect((await history.list(user, { limit: 50 })).messages.map((m) => m.content)).toEqual(['new']);
  });

  it('never brings back an expired window, nor loses an append, when expiry falls between a read and its write', async () => {
    const user = uniqueId('u');
    const { clock, history } = service();
    await history.append(user, { role: 'user', content: 'old' }, log);

    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reads = 0;
    const slow = createChatHistoryService({
      clock,
      settings: { maxMessages: 50, ttlSeconds: TTL },
      store: {
        ...stores.hot,
        async get(key) {
          const entry = await stores.hot.get(key);
          reads += 1;
          if (reads === 1) await held;
          return entry;
        },
      },
    });
    const slowAppend = slow.append(user, { role: 'user', content: 'A' }, log);
    while (reads === 0) await new Promise((resolve) => setTimeout(resolve, 1));

    clock.at += (TTL + 1) * 1000; // the window has expired…
    stores.now += (TTL + 1) * 1000; // …on the store's clock too
    const b = await history.append(user, { role: 'user', content: 'B' }, log);
    expect(b.count).toBe(1);
    release();
    await slowAppend;
    expect((await history.list(user, { limit: 50 })).messages.map((m) => m.content)).toEqual(['B', 'A']);
  });
});
