import { z } from 'zod';
import { boundedObject, idSchema, isoTimestamp } from '../schemas.js';

export const putProfileSchema = z.strictObject({
  displayName: z.string().trim().min(1).max(100),
  email: z.email().max(254).optional(),
  preferences: boundedObject(4096).optional(),
});
export type PutProfileInput = z.infer<typeof putProfileSchema>;

export const profileSchema = z.object({
  userId: idSchema,
  displayName: z.string(),
  email: z.string().optional(),
  preferences: z.record(z.string(), z.unknown()).optional(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Profile = z.infer<typeof profileSchema>;

export const profileDocumentSchema = z.object({
  v: z.literal(1),
  revision: z.number().int().min(1),
  profile: profileSchema,
});
