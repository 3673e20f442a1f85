import { z } from 'zod';
import { ID_PATTERN } from './state/keys.js';

/** Ids the public API accepts (users, tasks, messages). */
export const idSchema = z.string().regex(ID_PATTERN, 'must be 1–128 letters, digits, "_" or "-"');

export const userParamsSchema = z.object({ userId: idSchema });

/** A JSON object whose serialized form is at most `maxBytes` (UTF-8). */
export function boundedObject(maxBytes: number) {
  return z.record(z.string(), z.unknown()).refine((value) => Buffer.byteLength(JSON.stringify(value)) <= maxBytes, {
    message: `must be at most ${maxBytes / 1024} KiB as JSON`,
  });
}

export const isoTimestamp = z.iso.datetime();
