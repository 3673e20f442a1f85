import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type CacheStatus, createVersionedCache, singleFlight } from '../cache/versioned-cache.js';
import type { Clock } from '../clock.js';
import { Conflict, NotFound, PreconditionFailed, Unavailable, ValidationError } from '../errors.js';
import type { Log } from '../logger.js';
import { parseStored, updateWithRetry } from '../state/compare-and-set.js';
import { keyBuilder } from '../state/keys.js';
import type { StateStore } from '../state/port.js';
import {
  type CreateTaskInput,
  type IfMatch,
  ifMatchAccepts,
  type Task,
  type TaskListDocument,
  taskListDocumentSchema,
  taskSchema,
  type UpdateTaskInput,
} from './task-schemas.js';

export const taskListKey = keyBuilder('tasks', 'user');
export const taskCacheKey = keyBuilder('cache', 'tasks');
export const MAX_TASKS_PER_USER = 500;
/** Keeps every write of the document far below daprd's 4 MB request limit. */
export const MAX_TASK_LIST_BYTES = 1024 * 1024;

export interface TaskList {
  tasks: Task[];
  cache: CacheStatus;
}

export interface CreatedTask {
  task: Task;
  /** False when a task with the requested id already existed (an idempotent retry). */
  created: boolean;
}

export interface TasksService {
  list(userId: string, log: Log): Promise<TaskList>;
  /**
   * `id` makes the create idempotent: a second create with the same id returns the first task.
   * A write whose outcome is unknown is resolved before answering (see `create`).
   */
  create(userId: string, input: CreateTaskInput, log: Log, id?: string): Promise<CreatedTask>;
  /** `ifMatch` (RFC 9110 strong comparison): 412 unless it accepts the task's current entity-tag. */
  update(userId: string, taskId: string, patch: UpdateTaskInput, log: Log, ifMatch?: IfMatch): Promise<Task>;
  remove(userId: string, taskId: string, log: Log): Promise<void>;
}

export interface TasksDeps {
  durable: StateStore;
  cache: StateStore;
  clock: Clock;
  cacheTtlSeconds: number;
}

/**
 * Tasks live in the durable store as one document per user, changed only by compare-and-set on its
 * ETag: concurrent creates and updates are serialized by the store, so none is lost, and the
 * document's revision orders every version of the list. (Per-task keys plus an index would put the
 * same contention on the index, and need a transaction.) The hot store holds a copy per user,
 * written through after every change and only ever moved to a newer revision (versioned-cache.ts).
 */
export function createTasksService({ durable, cache: cacheStore, clock, cacheTtlSeconds }: TasksDeps): TasksService {
  async function readDurable(userId: string): Promise<{ tasks: Task[]; revision: number }> {
    const key = taskListKey(userId);
    const entry = await durable.get(key);
    if (entry === null) return { tasks: [], revision: 0 };
    const document = parseStored(taskListDocumentSchema, key, entry.value);
    return { tasks: sorted(document.tasks), revision: document.revision };
  }

  const cache = createVersionedCache({
    store: cacheStore,
    key: taskCacheKey,
    schema: z.array(taskSchema),
    ttlSeconds: cacheTtlSeconds,
    now: clock.now,
    reload: async (userId) => {
      const { tasks, revision } = await readDurable(userId);
      return { value: tasks, revision };
    },
  });
  const loadOnce = singleFlight<{ tasks: Task[]; revision: number }>();

  /** Applies `change` to the user's document with compare-and-set, then writes the result through to the cache. */
  async function mutate<R>(
    userId: string,
    log: Log,
    change: (tasks: Task[], now: string) => { tasks: Task[]; result: R } | { result: R; unchanged: true },
  ): Promise<R> {
    const outcome = await updateWithRetry({
      store: durable,
      key: taskListKey(userId),
      schema: taskListDocumentSchema,
      decide: (current) => {
        const decision = change(current?.tasks ?? [], new Date(clock.now()).toISOString());
        if ('unchanged' in decision) return { result: { value: decision.result, document: current } };
        const document: TaskListDocument = { v: 1, revision: (current?.revision ?? 0) + 1, tasks: sorted(decision.tasks) };
        // Only a change that grows an over-size list is refused: deleting or shortening always works.
        if (mayExceed(document) && growsPastLimit(document, current)) {
          throw new ValidationError([{ path: 'tasks', message: 'The task list is full (1 MiB). Delete or shorten some tasks.' }]);
        }
        return { write: document, result: { value: decision.result, document } };
      },
    });
    const { document, value } = outcome.result;
    if (outcome.wrote && document) await cache.offer(userId, document.tasks, document.revision, log);
    log.info({ attempts: outcome.attempts, wrote: outcome.wrote, revision: document?.revision }, 'tasks changed');
    return value;
  }

  return {
    async list(userId, log) {
      const cached = await cache.get(userId, log);
      if (cached.status === 'HIT') return { tasks: cached.value, cache: 'HIT' };
      if (cached.status === 'BYPASS') return { tasks: (await readDurable(userId)).tasks, cache: 'BYPASS' };
      const { seen } = cached;
      const { tasks, revision } = await loadOnce(userId, async () => {
        const loaded = await readDurable(userId);
        await cache.offer(userId, loaded.tasks, loaded.revision, log, seen);
        return loaded;
      });
      log.debug({ revision }, 'tasks cache filled');
      return { tasks, cache: 'MISS' };
    },

    async create(userId, input, log, id) {
      const taskId = id ?? randomUUID();
      const createById = () =>
        mutate<CreatedTask>(userId, log, (tasks, now) => {
          const existing = tasks.find((t) => t.id === taskId);
          if (existing) return { result: { task: existing, created: false }, unchanged: true };
          if (tasks.length >= MAX_TASKS_PER_USER) {
            throw new ValidationError([{ path: 'tasks', message: `A user can have at most ${MAX_TASKS_PER_USER} tasks.` }]);
          }
          const task: Task = {
            id: taskId,
            title: input.title,
            description: input.description ?? '',
            completed: false,
            createdAt: now,
            updatedAt: now,
            version: 1,
          };
          return { tasks: [...tasks, task], result: { task, created: true } };
        });
      try {
        return await createById();
      } catch (error) {
        if (!(error instanceof Unavailable && error.outcomeUnknown)) throw error;
        log.warn({ err: error, taskId }, 'task create outcome unknown; reading back');
        return resolveUnknownCreate(createById, id === undefined, log);
      }
    },

    update(userId, taskId, patch, log, ifMatch) {
      return mutate(userId, log, (tasks, now) => {
        const current = findTask(tasks, taskId);
        if (ifMatch !== undefined && !ifMatchAccepts(ifMatch, current)) {
          throw new PreconditionFailed(`The task is at version ${current.version}; If-Match does not name it.`);
        }
        const task: Task = { ...current, ...definedFields(patch), updatedAt: now, version: current.version + 1 };
        return { tasks: tasks.map((t) => (t.id === taskId ? task : t)), result: task };
      });
    },

    remove(userId, taskId, log) {
      return mutate(userId, log, (tasks) => {
        findTask(tasks, taskId);
        return { tasks: tasks.filter((t) => t.id !== taskId), result: undefined };
      });
    },
  };
}

/**
 * After a save whose outcome is unknown (sent, never answered), the same create-by-id runs again:
 * it reads the list back and either finds the task (the first write landed: 201 as normal) or,
 * seeing it absent, writes it again with the ETag it just read (so a late-landing first write
 * and this one cannot both apply). Only when that, too, cannot complete is the outcome unknown.
 */
async function resolveUnknownCreate(createById: () => Promise<CreatedTask>, idWasGenerated: boolean, log: Log): Promise<CreatedTask> {
  let last: unknown;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const resolved = await createById();
      log.info({ landed: !resolved.created }, 'task create outcome resolved');
      // An id nobody else knows can only have been written by this request.
      return idWasGenerated ? { ...resolved, created: true } : resolved;
    } catch (error) {
      // A conflict, too, leaves the first write's fate open: never "safe to retry" without the key.
      if (!(error instanceof Unavailable || error instanceof Conflict)) throw error;
      last = error;
    }
  }
  throw new Unavailable('task create outcome unknown', { outcomeUnknown: true, cause: last });
}

/** The largest a task can serialise to apart from its strings (id ≤ 128, timestamps, flags, names). */
const TASK_OVERHEAD_BYTES = 512;

/**
 * A cheap upper bound: JSON escapes a UTF-16 code unit to at most 6 bytes. Below the limit, the
 * list is not serialised just to be measured (the store serialises it anyway).
 */
function mayExceed(document: TaskListDocument): boolean {
  let bound = 64;
  for (const task of document.tasks) bound += TASK_OVERHEAD_BYTES + 6 * (task.title.length + task.description.length);
  return bound > MAX_TASK_LIST_BYTES;
}

function growsPastLimit(document: TaskListDocument, current: TaskListDocument | null): boolean {
  const size = Buffer.byteLength(JSON.stringify(document));
  return size > MAX_TASK_LIST_BYTES && size > Buffer.byteLength(JSON.stringify(current ?? {}));
}

function findTask(tasks: Task[], taskId: string): Task {
  const task = tasks.find((t) => t.id === taskId);
  if (!task) throw new NotFound('No task with that id.');
  return task;
}

function definedFields(patch: UpdateTaskInput): Partial<Task> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
}

function sorted(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}
