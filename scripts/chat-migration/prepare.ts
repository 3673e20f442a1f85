import { createHash } from 'node:crypto';
import { fitWindow, HISTORY_GRACE_SECONDS } from '../../shared/chat/chat-history-service.js';
import { type ChatMessage, chatMessageSchema } from '../../shared/chat/chat-schemas.js';
import { ID_PATTERN } from '../../shared/state/keys.js';
import type { LegacyHistory } from './source.js';

/** A history in the chat envelope, as the chat functions read it. */
export interface PreparedDocument {
  v: 1;
  messages: ChatMessage[];
  expiresAt: string;
}

export type Prepared =
  | { kind: 'write'; document: PreparedDocument; ttlSeconds: number }
  | { kind: 'outcome'; outcome: { userId: string; kind: 'skippedExpired' } | { userId: string; kind: 'failed'; reason: string } };

export interface PrepareSettings {
  maxMessages: number;
  /** A history lives this long after its newest message (CHAT_HISTORY_TTL_SECONDS). */
  ttlSeconds: number;
  now: () => number;
}

/** Validates and converts one legacy history; pure, so a resumed run prepares exactly the same. */
export function prepareHistory(history: LegacyHistory, settings: PrepareSettings): Prepared {
  const { userId } = history;
  const fail = (reason: string): Prepared => ({ kind: 'outcome', outcome: { userId, kind: 'failed', reason } });
  if (!ID_PATTERN.test(userId)) return fail('user id is not a valid id');
  const newest = history.messages.at(-1);
  if (!newest) return fail('no messages');
  const badTime = history.messages.find((m) => Number.isNaN(m.createdAt.getTime()));
  if (badTime) return fail(`message ${badTime.id}: created_at is not a valid time`);
  const ttlSeconds = settings.ttlSeconds - Math.floor((settings.now() - newest.createdAt.getTime()) / 1000);
  if (ttlSeconds <= 0) return { kind: 'outcome', outcome: { userId, kind: 'skippedExpired' } };

  const seen = new Set<string>();
  const messages: ChatMessage[] = [];
  for (const legacy of history.messages.slice(-settings.maxMessages)) {
    const message = chatMessageSchema.safeParse({
      id: uniqueId(messageId(legacy.id), seen),
      role: legacy.role.toLowerCase(),
      content: legacy.content,
      timestamp: legacy.createdAt.toISOString(),
    });
    if (!message.success) return fail(`message ${legacy.id}: ${message.error.issues[0]?.message ?? 'invalid'}`);
    if (message.data.content.length === 0 || message.data.content.length > 16_000) {
      return fail(`message ${legacy.id}: content must be 1–16000 characters`);
    }
    messages.push(message.data);
  }
  const document: PreparedDocument = {
    v: 1,
    messages: fitWindow(messages, settings.maxMessages),
    expiresAt: new Date(newest.createdAt.getTime() + settings.ttlSeconds * 1000).toISOString(),
  };
  // The store keeps the key a little longer than the history lives, as the chat service does.
  return { kind: 'write', document, ttlSeconds: ttlSeconds + HISTORY_GRACE_SECONDS };
}

/** Legacy ids that our id rules reject get a stable derived id (so re-runs derive the same one). */
function messageId(legacyId: string): string {
  return ID_PATTERN.test(legacyId) ? legacyId : `legacy-${createHash('sha256').update(legacyId).digest('hex').slice(0, 32)}`;
}

function uniqueId(id: string, seen: Set<string>): string {
  let candidate = id;
  for (let n = 2; seen.has(candidate); n += 1) candidate = `${id.slice(0, 120)}-dup${n}`;
  seen.add(candidate);
  return candidate;
}

/** A checksum of what a reader sees of each message: id, role, content and time. */
export function checksum(messages: readonly ChatMessage[]): string {
  const hash = createHash('sha256');
  for (const m of messages) hash.update(JSON.stringify([m.id, m.role, m.content, m.timestamp]));
  return hash.digest('hex');
}
