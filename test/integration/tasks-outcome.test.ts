import { describe, expect, it } from 'vitest';
import { Unavailable } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import type { StateStore } from '../../shared/state/port.js';
import { taskListDocumentSchema } from '../../shared/tasks/task-schemas.js';
import { createTasksService, taskListKey } from '../../shared/tasks/tasks-service.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';

const log = createLogger('silent');
const clock = { now: () => Date.now() };
const timedOut = () => new Unavailable('state store statestore-durable: save timed out', { outcomeUnknown: true });

describe('a task create whose durable write has an unknown outcome', () => {
  const stores = useStores();
  /** The durable store, with the first save to the user's list behaving as `firstSave` says. */
  const durableWith = (firstSave: 'lands, then times out' | 'times out, never lands' | 'refused', after: 'up' | 'down' = 'up') => {
    let saves = 0;
    let firstDone = false;
    const store: StateStore = {
      ...stores.durable,
      async get(key) {
        if (firstDone && after === 'down') throw new Unavailable('state store statestore-durable: unreachable');
        return stores.durable.get(key);
      },
      async save(key, value, options) {
        saves += 1;
        if (firstDone) return stores.durable.save(key, value, options);
        firstDone = true;
        if (firstSave === 'lands, then times out') await stores.durable.save(key, value, options);
        if (firstSave === 'refused') throw new Unavailable('state store statestore-durable: connection refused');
        throw timedOut();
      },
    };
    return { store, saves: () => saves };
  };
  const tasksOn = (durable: StateStore) => createTasksService({ durable, cache: stores.hot, clock, cacheTtlSeconds: 300 });
  const storedTitles = async (user: string) => {
    const entry = await stores.durable.get(taskListKey(user));
    return entry === null ? [] : taskListDocumentSchema.parse(entry.value).tasks.map((t) => t.title);
  };

  it('reads back the id it generated: the write landed, so it answers the task (201), stored once', async () => {
    const user = uniqueId('u');
    const durable = durableWith('lands, then times out');
    const result = await tasksOn(durable.store).create(user, { title: 'landed' }, log);
    expect(result).toMatchObject({ created: true, task: { title: 'landed' } });
    expect(durable.saves()).toBe(1); // read back, found: no second write
    expect(await storedTitles(user)).toEqual(['landed']);
    expect((await tasksOn(stores.durable).list(user, log)).tasks).toEqual([result.task]);
  });

  it('writes it again with the ETag it read back when the first write did not land', async () => {
    const user = uniqueId('u');
    const durable = durableWith('times out, never lands');
    const result = await tasksOn(durable.store).create(user, { title: 'rewritten' }, log);
    expect(result).toMatchObject({ created: true, task: { title: 'rewritten' } });
    expect(durable.saves()).toBe(2);
    expect(await storedTitles(user)).toEqual(['rewritten']);
  });

  it('answers 503 with outcome unknown when the store cannot be read back', async () => {
    const user = uniqueId('u');
    const durable = durableWith('lands, then times out', 'down');
    const failure = await tasksOn(durable.store)
      .create(user, { title: 'unknown' }, log)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Unavailable);
    expect(failure).toMatchObject({ outcomeUnknown: true });
    expect(await storedTitles(user)).toEqual(['unknown']); // it did land: hence "unknown", never a plain 503
  });

  it('answers a plain 503 (retry is safe) when the store refused the write, and writes once', async () => {
    const user = uniqueId('u');
    const durable = durableWith('refused');
    const failure = await tasksOn(durable.store)
      .create(user, { title: 'refused' }, log)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ outcomeUnknown: false });
    expect(durable.saves()).toBe(1);
    expect(await storedTitles(user)).toEqual([]);
  });

  it('converges on the task of a given id (an Idempotency-Key’s) when the first write landed', async () => {
    const user = uniqueId('u');
    const durable = durableWith('lands, then times out');
    const result = await tasksOn(durable.store).create(user, { title: 'keyed' }, log, 'derived-id-1');
    expect(result.task.id).toBe('derived-id-1');
    const retried = await tasksOn(stores.durable).create(user, { title: 'keyed' }, log, 'derived-id-1');
    expect(retried).toEqual({ task: result.task, created: false });
    expect(await storedTitles(user)).toEqual(['keyed']);
  });
});
