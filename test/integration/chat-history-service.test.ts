import { describe, expect, it, vi } from 'vitest';
import { createChatHistoryService, historyKey } from '../../shared/chat/chat-history-service.js';
import { CHAT_HISTORY_MAX_BYTES } from '../../shared/chat/chat-schemas.js';
import { Unavailable, ValidationError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { remainingMs, runWithDeadline } from '../../shared/state/deadline.js';
import type { StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';
import { countingSaves, useStores } from '../support/stores.js';

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

describe('chat history service, byte bounds', () => {
  const stores = useStores();
  const clock = { now: () => Date.now() };
  const history = (store: StateStore = stores.hot) => createChatHistoryService({ store, clock, settings });
  const storedBytes = async (user: string) => Buffer.byteLength(JSON.stringify((await stores.hot.get(historyKey(user)))?.value));

  it('refuses a message whose stored JSON exceeds CHAT_MESSAGE_MAX_BYTES (16,000 control characters), writing nothing', async () => {
    const user = uniqueId('u');
    const attack = '\u0001'.repeat(16_000); // 16,000 characters, 96,000 bytes as JSON
    const error = await history()
      .append(user, { role: 'user', content: attack }, log)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).status).toBe(400);
    expect(await stores.hot.get(historyKey(user))).toBeNull();
  });

  it('accepts 16,000 characters of any printable text (3 bytes each in UTF-8)', async () => {
    const user = uniqueId('u');
    const result = await history().append(user, { role: 'user', content: '中'.repeat(16_000), metadata: { k: 'v'.repeat(4000) } }, log);
    expect(result.created).toBe(true);
  });

  it('keeps the stored document within CHAT_HISTORY_MAX_BYTES: the newest messages that fit', async () => {
    const user = uniqueId('u');
    const service = history();
    const big = '\u0001'.repeat(10_000); // 60,000 bytes as JSON: under the message cap, five times the usual size
    for (let i = 0; i < 16; i += 1) await service.append(user, { role: 'user', content: `${i}:${big}`, id: `m-${i}` }, log);
    const bytes = await storedBytes(user);
    expect(bytes).toBeLessThanOrEqual(CHAT_HISTORY_MAX_BYTES);
    expect(bytes + 60_000).toBeGreaterThan(CHAT_HISTORY_MAX_BYTES); // one more would not have fitted
    const page = await service.list(user, { limit: 50 });
    const kept = page.messages.length;
    expect(kept).toBeGreaterThanOrEqual(8);
    expect(kept).toBeLessThan(16);
    expect(page.messages.map((m) => m.id)).toEqual(Array.from({ length: kept }, (_, i) => `m-${16 - kept + i}`));
  });

  it('serialises only the message it adds (and one it drops), never the window it keeps', async () => {
    const user = uniqueId('u');
    const service = history();
    for (let i = 0; i < 50; i += 1) await service.append(user, { role: 'user', content: `message ${i}` }, log);
    const isMessage = (value: unknown) => typeof value === 'object' && value !== null && 'role' in value && 'timestamp' in value;
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      await service.append(user, { role: 'user', content: 'one more' }, log);
      const args = stringify.mock.calls.map(([value]) => value);
      expect(args.filter(isMessage).length).toBeLessThanOrEqual(2);
      expect(args.filter((value) => Array.isArray(value) && value.some(isMessage))).toEqual([]);
    } finally {
      stringify.mockRestore();
    }
    expect((await service.list(user, { limit: 50 })).messages.at(-1)?.content).toBe('one more');
  });
});

describe('chat history service, writes whose outcome is unknown', () => {
  const stores = useStores();
  const clock = { now: () => Date.now() };

  /** The hot store, except that history saves are applied (or not) and then answered with an outcome-unknown 503. */
  function unanswered(apply: boolean): StateStore {
    return {
      ...stores.hot,
      async save(key, value, options) {
        if (!key.startsWith('chat:history:')) return stores.hot.save(key, value, options);
        if (apply) await stores.hot.save(key, value, options);
        throw new Unavailable('no answer after sending', { outcomeUnknown: true });
      },
    };
  }

  it('answers an append that landed as a success, found by reading back its server-assigned id', async () => {
    const user = uniqueId('u');
    const service = createChatHistoryService({ store: unanswered(true), clock, settings });
    const result = await service.append(user, { role: 'user', content: 'landed' }, log);
    expect(result).toMatchObject({ created: true, count: 1, message: { content: 'landed' } });
    const stored = await createChatHistoryService({ store: stores.hot, clock, settings }).list(user, { limit: 50 });
    expect(stored.messages.map((m) => m.id)).toEqual([result.message.id]);
  });

  it('answers 503 with the outcome unknown when the read-back does not find the message', async () => {
    const user = uniqueId('u');
    const service = createChatHistoryService({ store: unanswered(false), clock, settings });
    const error = await service.append(user, { role: 'user', content: 'lost', id: 'client-id' }, log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Unavailable).outcomeUnknown).toBe(true);
  });

  it('answers a clear that landed as a success', async () => {
    const user = uniqueId('u');
    await createChatHistoryService({ store: stores.hot, clock, settings }).append(user, { role: 'user', content: 'x' }, log);
    await createChatHistoryService({ store: unanswered(true), clock, settings }).clear(user);
    expect((await stores.hot.get(historyKey(user)))?.value).toMatchObject({ messages: [] });
  });
});

describe('chat history service, several messages in one append', () => {
  const stores = useStores();

  it('writes them with one save, and re-sending them adds nothing', async () => {
    const user = uniqueId('u');
    const counting = countingSaves(stores.hot);
    const service = createChatHistoryService({ store: counting.store, clock: { now: () => Date.now() }, settings });
    const pair = [
      { role: 'user' as const, content: 'question', id: 'q-1' },
      { role: 'assistant' as const, content: 'answer', id: 'a-1' },
    ];
    const first = await service.appendMany(user, pair, log);
    expect(first.messages.map((m) => m.created)).toEqual([true, true]);
    expect(first.count).toBe(2);
    expect(counting.saves()).toBe(1);
    const again = await service.appendMany(user, pair, log);
    expect(again.messages.map((m) => m.created)).toEqual([false, false]);
    expect(counting.saves()).toBe(1);
    expect((await service.list(user, { limit: 50 })).messages.map((m) => m.id)).toEqual(['q-1', 'a-1']);
  });
});

describe('chat history service, an id derived from an idempotency key', () => {
  const stores = useStores();
  const service = () => createChatHistoryService({ store: stores.hot, clock: { now: () => Date.now() }, settings });

  it('names a message sent without an id, so a re-run with the same derived id adds nothing', async () => {
    const user = uniqueId('u');
    const first = await service().append(user, { role: 'user', content: 'once' }, log, 'derived-1');
    expect(first).toMatchObject({ created: true, count: 1, message: { id: 'derived-1' } });
    const rerun = await service().append(user, { role: 'user', content: 'once' }, log, 'derived-1');
    expect(rerun).toMatchObject({ created: false, count: 1, message: { id: 'derived-1' } });
  });

  it('leaves a message’s own id alone', async () => {
    const user = uniqueId('u');
    const appended = await service().append(user, { role: 'user', content: 'mine', id: 'own-id' }, log, 'derived-2');
    expect(appended.message.id).toBe('own-id');
  });
});

describe('chat history service, a burst of appends for one user', () => {
  const stores = useStores();

  it('writes 100 concurrent appends in a few saves, answering each with its own count', async () => {
    const user = uniqueId('u');
    const counting = countingSaves(stores.hot);
    const service = createChatHistoryService({
      store: counting.store,
      clock: { now: () => Date.now() },
      settings: { maxMessages: 100, ttlSeconds: 600 },
    });
    const sent = Array.from({ length: 100 }, (_, i) => `burst-${i}`);
    const results = await Promise.all(
      sent.map((id) => service.append(user, { role: 'user', content: `${id} ${'x'.repeat(2000)}`, id }, log)),
    );
    expect(results.every((r) => r.created)).toBe(true);
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i + 1));
    expect(counting.saves()).toBeLessThan(10);
    const stored = await service.list(user, { limit: 50, before: undefined });
    expect(stored.messages.at(-1)?.id).toBe(results.find((r) => r.count === 100)?.message.id);
    const all = (await stores.hot.get(historyKey(user)))?.value as { messages: Array<{ id: string }> };
    expect(new Set(all.messages.map((m) => m.id))).toEqual(new Set(sent));
  });
});

describe('chat history service, appends queued behind a slow write', () => {
  const stores = useStores();

  it('writes a queued append within its own request budget, not the budget of the request that started the queue', async () => {
    const store = stores.hot;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    // Like the Dapr adapter: a call made once its request's budget is spent fails without I/O.
    const budgeted: StateStore = {
      ...store,
      async get(key) {
        if (remainingMs() <= 0) throw new Unavailable('budget spent');
        return store.get(key);
      },
      async save(key, value, options) {
        if (remainingMs() <= 0) throw new Unavailable('budget spent');
        await store.save(key, value, options);
        if (!held) {
          held = true;
          await gate; // the first write landed; its answer is slow to come back
        }
      },
    };
    const service = createChatHistoryService({ store: budgeted, clock: { now: () => Date.now() }, settings });
    const user = uniqueId('u');

    const first = runWithDeadline(performance.now() + 50, () => service.append(user, { role: 'user', content: 'first' }, log));
    await vi.waitFor(() => expect(held).toBe(true));
    const second = runWithDeadline(performance.now() + 60_000, () => service.append(user, { role: 'user', content: 'second' }, log));
    await new Promise((resolve) => setTimeout(resolve, 80)); // the first request's budget is now spent
    release();

    expect((await first).created).toBe(true);
    expect(await second).toMatchObject({ created: true, count: 2 });
    expect((await service.list(user, { limit: 50 })).messages.map((m) => m.content)).toEqual(['first', 'second']);
  });
});
