import { z } from 'zod';
import { idSchema, isoTimestamp } from '../schemas.js';

export const taskSchema = z.object({
  id: idSchema,
  title: z.string(),
  description: z.string(),
  completed: z.boolean(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
  version: z.number().int().min(1),
});
export type Task = z.infer<typeof taskSchema>;

/** A user's tasks, stored as one document; `revision` moves on with every change. */
export const taskListDocumentSchema = z.object({
  v: z.literal(1),
  revision: z.number().int().min(1),
  tasks: z.array(taskSchema),
});
export type TaskListDocument = z.infer<typeof taskListDocumentSchema>;

const title = z.string().trim().min(1).max(200);
const description = z.string().max(2000);

export const createTaskSchema = z.strictObject({ title, description: description.optional() });
export type CreateTaskInput = z.infer<typeof createTaskSchema>;

export const updateTaskSchema = z
  .strictObject({ title: title.optional(), description: description.optional(), completed: z.boolean().optional() })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'Change at least one of title, description, completed.' });
export type UpdateTaskInput = z.infer<typeof updateTaskSchema>;

export const taskParamsSchema = z.object({ userId: idSchema, taskId: idSchema });

/** One entity-tag of an If-Match list (RFC 9110 §8.8.3): `"3"` or the weak `W/"3"`. */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** `*` (any current task) or the entity-tags the client accepts. */
export type IfMatch = { any: true } | { any: false; tags: EntityTag[] };

/** entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text; a list is comma-separated. */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"$/;

/**
 * `If-Match` parsed per RFC 9110 §13.1.1: `*`, or a list of entity-tags. Anything else (a bare
 * `3`, an unquoted word) is malformed → 400. Whether it matches is decided by `ifMatchAccepts`.
 */
export const ifMatchSchema = z
  .string()
  .transform((value, ctx): IfMatch | typeof z.NEVER => {
    if (value.trim() === '*') return { any: true };
    const tags: EntityTag[] = [];
    for (const element of value.split(',')) {
      const trimmed = element.trim();
      if (trimmed === '') continue; // the list syntax allows empty elements
      const match = ENTITY_TAG.exec(trimmed);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: 'must be "*" or a list of entity-tags such as "3"' });
        return z.NEVER;
      }
      tags.push({ weak: match[1] !== undefined, opaque: match[2] ?? '' });
    }
    if (tags.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must be "*" or a list of entity-tags such as "3"' });
      return z.NEVER;
    }
    return { any: false, tags };
  })
  .optional();

/** The entity-tag a task answers with (`etag` header): its version, quoted. */
export const taskEtag = (task: Pick<Task, 'version'>): string => `"${task.version}"`;

/**
 * Strong comparison (RFC 9110 §8.8.3.2): a tag matches only when neither is weak and the opaque
 * tags are identical, so `W/"3"` never matches and `"03"` is not `"3"`. `*` matches any existing task.
 */
export function ifMatchAccepts(condition: IfMatch, task: Pick<Task, 'version'>): boolean {
  if (condition.any) return true;
  const current = String(task.version);
  return condition.tags.some((tag) => !tag.weak && tag.opaque === current);
}
