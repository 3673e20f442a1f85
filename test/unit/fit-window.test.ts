import { describe, expect, it } from 'vitest';
import { fitWindow, WINDOW_MAX_BYTES } from '../../shared/chat/chat-history-service.js';
import { appendToWindow, EMPTY_WINDOW, messageBytes } from '../../shared/chat/history-window.js';
import type { ChatMessage } from '../../shared/chat/chat-schemas.js';

const message = (i: number, content = `m${i}`): ChatMessage => ({
  id: `id-${i}`,
  role: 'user',
  content,
  timestamp: '2030-01-01T00:00:00.000Z',
});

describe('the chat history window', () => {
  it('keeps the newest maxMessages, oldest first', () => {
    const all = Array.from({ length: 8 }, (_, i) => message(i));
    expect(fitWindow(all, 5).map((m) => m.id)).toEqual(['id-3', 'id-4', 'id-5', 'id-6', 'id-7']);
  });

  it('drops more of the oldest messages when the window would exceed WINDOW_MAX_BYTES', () => {
    const big = 'é'.repeat(16_000); // 32 KB of UTF-8 each
    const all = Array.from({ length: 200 }, (_, i) => message(i, big));
    const window = fitWindow(all, 200);
    expect(window.length).toBeLessThan(200);
    expect(window.at(-1)?.id).toBe('id-199');
    expect(Buffer.byteLength(JSON.stringify(window))).toBeLessThanOrEqual(WINDOW_MAX_BYTES);
    expect(Buffer.byteLength(JSON.stringify([all[199 - window.length], ...window]))).toBeGreaterThan(WINDOW_MAX_BYTES);
  });

  it('always keeps the newest message', () => {
    expect(fitWindow([message(1)], 50)).toEqual([message(1)]);
  });
});

describe('adding several messages at once', () => {
  const sized = (m: ChatMessage) => ({ message: m, bytes: messageBytes(m) });

  it('keeps the same window and answers the same counts as adding them one by one', () => {
    const big = 'é'.repeat(15_000);
    const drafts = Array.from({ length: 40 }, (_, i) => sized(message(i, i % 3 === 0 ? big : `m${i}`)));
    const together = appendToWindow(EMPTY_WINDOW, drafts, 12);
    let window = EMPTY_WINDOW;
    const counts: number[] = [];
    for (const draft of drafts) {
      const next = appendToWindow(window, [draft], 12);
      window = next.window;
      counts.push(next.added[0]?.count ?? -1);
    }
    expect(together.window).toEqual(window);
    expect(together.added.map((a) => a.count)).toEqual(counts);
    expect(together.window.bytes).toBe(Buffer.byteLength(JSON.stringify(together.window.messages)));
  });

  it('does not add an id already in the window, answering the stored message', () => {
    const first = appendToWindow(EMPTY_WINDOW, [sized(message(1, 'original'))], 50);
    const again = appendToWindow(first.window, [sized(message(1, 'changed')), sized(message(2))], 50);
    expect(again.added.map((a) => [a.message.content, a.created, a.count])).toEqual([
      ['original', false, 1],
      ['m2', true, 2],
    ]);
  });
});
