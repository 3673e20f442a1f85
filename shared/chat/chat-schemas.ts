import { z } from 'zod';
import { boundedObject, idSchema, isoTimestamp } from '../schemas.js';

export const roleSchema = z.enum(['user', 'assistant', 'system']);

export const appendMessageSchema = z.strictObject({
  role: roleSchema,
  content: z.string().min(1).max(16_000),
  id: idSchema.optional(),
  metadata: boundedObject(4096).optional(),
});
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
