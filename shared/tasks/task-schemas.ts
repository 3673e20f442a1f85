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

/** `If-Match: "3"` (or `3`, or `W/"3"`) names the task version the client last saw; `*` any. */
export const ifMatchSchema = z
  .string()
  .trim()
  .regex(/^(\*|(W\/)?"?\d{1,15}"?)$/, 'must be a task version such as "3"')
  .transform((value) => (value === '*' ? undefined : Number(value.replace(/\D/g, ''))))
  .optional();
