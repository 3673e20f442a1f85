import { CHAT_HISTORY_MAX_BYTES, type ChatMessage, type HistoryDocument } from './chat-schemas.js';

/**
 * The chat history window as pure functions: which messages a history keeps, and how big it is as
 * JSON, computed from sizes measured once per message (never by re-serialising the window).
 */

/** Room left in CHAT_HISTORY_MAX_BYTES for the document around its messages (v, expiresAt, bytes: about 70 bytes). */
const ENVELOPE_BYTES = 256;
/** The most the serialised `messages` array may take, so that the whole document fits CHAT_HISTORY_MAX_BYTES. */
export const WINDOW_MAX_BYTES = CHAT_HISTORY_MAX_BYTES - ENVELOPE_BYTES;

/** A message's size as stored: UTF-8 bytes of its JSON. */
export function messageBytes(message: ChatMessage): number {
  return Buffer.byteLength(JSON.stringify(message));
}

/** A window and the size of its `messages` array as JSON. */
export interface Window {
  messages: ChatMessage[];
  bytes: number;
}

export const EMPTY_WINDOW: Window = { messages: [], bytes: 2 };

/** A message to add, with its measured size. */
export interface Draft {
  message: ChatMessage;
  bytes: number;
}

export interface Added {
  message: ChatMessage;
  /** False when the id was already in the window (the stored message is answered). */
  created: boolean;
  /** Messages in the window right after this one was added, as if the drafts came one by one. */
  count: number;
}

/** `[` + the messages joined by commas + `]`. */
const arrayBytes = (count: number, sumOfMessages: number) => (count === 0 ? 2 : sumOfMessages + count + 1);

/**
 * Adds the drafts one after the other (an id already in the window is not added again), dropping
 * the oldest messages after each until at most `maxMessages` remain and the array fits
 * WINDOW_MAX_BYTES; the newest message always stays. Sizes come from the window's stored total and
 * the drafts: only a message dropped from the old window is measured, so nothing it keeps is
 * re-serialised. `timestamp`, when given, replaces the drafts' (same length, same size).
 */
export function appendToWindow(
  window: Window,
  drafts: readonly Draft[],
  maxMessages: number,
  timestamp?: string,
): { window: Window; added: Added[] } {
  const all = [...window.messages];
  const kept = all.length;
  const draftSizes: number[] = [];
  const byId = new Map(all.map((m) => [m.id, m]));
  let count = kept;
  let sum = kept === 0 ? 0 : window.bytes - kept - 1;
  let start = 0;
  const added: Added[] = [];
  for (const draft of drafts) {
    const existing = byId.get(draft.message.id);
    if (existing) {
      added.push({ message: existing, created: false, count });
      continue;
    }
    const message = timestamp === undefined ? draft.message : { ...draft.message, timestamp };
    byId.set(message.id, message);
    all.push(message);
    draftSizes.push(draft.bytes);
    count += 1;
    sum += draft.bytes;
    while (count > 1 && (count > maxMessages || arrayBytes(count, sum) > WINDOW_MAX_BYTES)) {
      sum -= start < kept ? messageBytes(all[start] as ChatMessage) : (draftSizes[start - kept] ?? 0);
      start += 1;
      count -= 1;
    }
    added.push({ message, created: true, count });
  }
  return { window: { messages: all.slice(start), bytes: arrayBytes(count, sum) }, added };
}

/** The newest `maxMessages` messages that also fit in WINDOW_MAX_BYTES, oldest first. */
export function fitWindow(messages: readonly ChatMessage[], maxMessages: number): ChatMessage[] {
  return appendToWindow(
    EMPTY_WINDOW,
    messages.map((message) => ({ message, bytes: messageBytes(message) })),
    maxMessages,
  ).window.messages;
}

/** The window of a stored history that has not expired (documents written before `bytes` existed are measured once). */
export function liveWindow(document: HistoryDocument | null, now: number): Window {
  if (document === null) return EMPTY_WINDOW;
  if (document.expiresAt !== undefined && Date.parse(document.expiresAt) <= now) return EMPTY_WINDOW;
  return { messages: document.messages, bytes: document.bytes ?? Buffer.byteLength(JSON.stringify(document.messages)) };
}
