import { describe, expect, it } from 'vitest';
import { fitWindow, WINDOW_MAX_BYTES } from '../../shared/chat/chat-history-service.js';
import type { ChatMessage } from '../../shared/chat/chat-schemas.js';

const message = (i: number, content = `m${i}`): ChatMessage => ({ id: `id-${i}`, role: 'user', content, timestamp: '2030-01-01T00:00:00.000Z' });

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
