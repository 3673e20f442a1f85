import { z } from 'zod';
import { boundedObject, isoTimestamp } from '../schemas.js';

export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be 16–128 letters, digits, "_" or "-"');
export const sessionParamsSchema = z.object({ sessionId: sessionIdSchema });

export const SESSION_DATA_MAX_BYTES = 64 * 1024;
/** The body is the data plus a few small fields. */
export const SESSION_BODY_MAX_BYTES = SESSION_DATA_MAX_BYTES + 1024;

export const putSessionSchema = z.strictObject({
  data: boundedObject(SESSION_DATA_MAX_BYTES),
  ttlSeconds: z.number().int().min(60).max(86_400).default(3600),
  sliding: z.boolean().default(false),
});
export type PutSessionInput = z.infer<typeof putSessionSchema>;

/** A deleted session leaves a tombstone for a while, so no in-flight write can bring it back. */
export const sessionDocumentSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('live'),
    owner: z.string(),
    data: z.record(z.string(), z.unknown()),
    sliding: z.boolean(),
    ttlSeconds: z.number().int(),
    expiresAt: isoTimestamp,
  }),
  z.object({ kind: z.literal('deleted') }),
]);
export type SessionDocument = z.infer<typeof sessionDocumentSchema>;
