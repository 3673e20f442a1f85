import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Conflict, Unavailable } from '../../shared/errors.js';
import { CorruptState, type RetryBudget, updateWithRetry } from '../../shared/state/compare-and-set.js';
import { runWithDeadline } from '../../shared/state/deadline.js';
import type { StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';

const counter = z.object({ n: z.number() });
const fastBudget = { maxRetries: 3, initialDelayMs: 1, maxDelayMs: 5 };

describe('updateWithRetry (compare-and-set through the sidecar)', () => {
  const stores = useStores();

  const increment = (key: string, extra: { store?: StateStore; budget?: RetryBudget; ttlSeconds?: number } = {}) =>
    updateWithRetry({
      store: stores.hot,
      key,
      schema: counter,
      decide: (current) => ({ write: { n: (current?.n ?? 0) + 1 }, result: (current?.n ?? 0) + 1 }),
      ...extra,
    });

  it('creates an absent key, then updates it with its ETag', async () => {
    const key = uniqueId('test:cas:counter');
    expect(await increment(key)).toEqual({ result: 1, attempts: 1, wrote: true });
    expect(await increment(key)).toEqual({ result: 2, attempts: 1, wrote: true });
    expect((await stores.hot.get(key))?.value).toEqual({ n: 2 });
  });

  /** The real store, with another writer's increment slipped in after each of the first `times` reads. */
  function withInterleavedWriter(key: string, times: number): StateStore {
    let remaining = times;
    return {
      ...stores.hot,
      async get(k) {
        const entry = await stores.hot.get(k);
        if (k === key && remaining > 0) {
          remaining -= 1;
          await increment(k);
        }
        return entry;
      },
    };
  }

  it('decides again on what a concurrent writer stored, losing neither write', async () => {
    const key = uniqueId('test:cas:race');
    await increment(key);
    const outcome = await increment(key, { store: withInterleavedWriter(key, 2), budget: fastBudget });
    expect(outcome).toEqual({ result: 4, attempts: 3, wrote: true });
    expect((await stores.hot.get(key))?.value).toEqual({ n: 4 });
  });

  it('decides again when a concurrent writer created the key first', async () => {
    const key = uniqueId('test:cas:create-race');
    const outcome = await increment(key, { store: withInterleavedWriter(key, 1), budget: fastBudget });
    expect(outcome).toEqual({ result: 2, attempts: 2, wrote: true });
  });

  it("gives up with Conflict once the retry budget is spent, leaving the winner's value", async () => {
    const key = uniqueId('test:cas:exhausted');
    await increment(key);
    const error = await increment(key, { store: withInterleavedWriter(key, 100), budget: fastBudget }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Conflict);
    expect((error as Conflict).status).toBe(409);
    expect((await stores.hot.get(key))?.value).toEqual({ n: 1 + fastBudget.maxRetries + 1 });
  });

  it('stops retrying when the request budget is spent, with 503 rather than an endless 409 loop', async () => {
    const key = uniqueId('test:cas:budget');
    await increment(key);
    // Another writer wins every round, and the retry count alone would allow minutes of trying.
    const endless = { maxRetries: 100_000, initialDelayMs: 5, maxDelayMs: 20 };
    const started = performance.now();
    const error = await runWithDeadline(performance.now() + 300, () =>
      increment(key, { store: withInterleavedWriter(key, Number.POSITIVE_INFINITY), budget: endless }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    // Either the pause before a retry or the next store call finds the budget spent.
    expect((error as Error).message).toMatch(/time budget (ran out|is spent)/);
    expect(performance.now() - started).toBeLessThan(300 + 5000);
  });

  it('writes nothing when the decision is to write nothing', async () => {
    const key = uniqueId('test:cas:noop');
    const outcome = await updateWithRetry({ store: stores.hot, key, schema: counter, decide: () => ({ result: 'unchanged' }) });
    expect(outcome).toEqual({ result: 'unchanged', attempts: 1, wrote: false });
    expect(await stores.hot.get(key)).toBeNull();
  });

  it('sends the TTL with every write', async () => {
    const key = uniqueId('test:cas:ttl');
    await increment(key, { ttlSeconds: 30 });
    stores.now += 20_000;
    await increment(key, { ttlSeconds: 30 });
    stores.now += 20_000;
    expect((await stores.hot.get(key))?.value).toEqual({ n: 2 });
    stores.now += 11_000;
    expect(await stores.hot.get(key)).toBeNull();
  });

  it('refuses to decide over a document that does not parse, and leaves it alone', async () => {
    const key = uniqueId('test:cas:corrupt');
    await stores.hot.save(key, { n: 'three' }, { mode: 'create-only' });
    await expect(increment(key)).rejects.toBeInstanceOf(CorruptState);
    expect((await stores.hot.get(key))?.value).toEqual({ n: 'three' });
  });
});
