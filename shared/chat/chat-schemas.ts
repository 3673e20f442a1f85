import { z } from 'zod';
import { boundedObject, idSchema, isoTimestamp } from '../schemas.js';

export const roleSchema = z.enum(['user', 'assistant', 'system']);

/**
 * The most a stored message may take as JSON (UTF-8). Any 16,000-character text of printable
 * characters fits with its 4 KiB of metadata (≤ 3 bytes per UTF-16 unit, so ≤ 48,000 bytes of
 * content); what does not is content that JSON escapes heavily, such as control characters (6 bytes
 * each). Such an append is refused with 400 and writes nothing.
 */
export const CHAT_MESSAGE_MAX_BYTES = 64 * 1024;
/**
 * The most a stored history document may take as JSON. The window keeps the newest messages that
 * fit (history-window.ts: 7 of the largest, 64 KiB each; all 50 when each takes at most 10,479
 * bytes): an append then parses, copies and sends
 * at most 512 KiB, whatever a caller sends, far below daprd's 4 MB request limit and Redis's
 * value limit, and cheap enough in CPU that one user's appends cannot starve others.
 */
export const CHAT_HISTORY_MAX_BYTES = 512 * 1024;

export const appendMessageSchema = z
  .strictObject({
    role: roleSchema,
    content: z.string().min(1).max(16_000),
    id: idSchema.optional(),
    metadata: boundedObject(4096).optional(),
  })
  .describe(
    `A stored message may take at most ${CHAT_MESSAGE_MAX_BYTES / 1024} KiB as JSON (else 400 validation_failed, nothing written); ` +
      `the stored history at most ${CHAT_HISTORY_MAX_BYTES / 1024} KiB, keeping the newest messages that fit.`,
  );
export type AppendMessageInput = z.infer<typeof appendMessageSchema>;

export const chatMessageSchema = z.object({
  id: idSchema,
  role: roleSchema,
  content: z.string(),
  timestamp: isoTimestamp,
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/**
 * The stored window, oldest first. Versioned so a later shape can be migrated on read. `expiresAt`
 * is the history's own expiry (the store keeps the key a little longer, see chat-history-service).
 */
export const historyDocumentSchema = z.object({
  v: z.literal(1),
  messages: z.array(chatMessageSchema),
  expiresAt: isoTimestamp.optional(),
  /** `messages` serialised, in UTF-8 bytes: kept so an append never re-serialises the window to size it. */
  bytes: z.number().int().min(2).optional(),
});
export type HistoryDocument = z.infer<typeof historyDocumentSchema>;

export const historyQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(50).default(20),
  before: idSchema.optional(),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

export const sessionDocumentSchema = z.object({
  v: z.literal(1),
  session: z.record(z.string(), z.unknown()),
  expiresAt: isoTimestamp,
});

export const SESSION_MAX_BYTES = 64 * 1024;
export const sessionBodySchema = z.record(z.string(), z.unknown());
