import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { z } from 'zod';
import { AlreadyExists, Conflict, Unavailable } from '../errors.js';
import { remainingMs } from './deadline.js';
import { withAttempt } from '../telemetry/tracing.js';
import type { StateStore } from './port.js';

/** A stored document that no longer parses: reported as a 500, never overwritten. */
export class CorruptState extends Error {
  constructor(
    readonly key: string,
    readonly issues: string,
  ) {
    super(`stored document at ${key} does not parse: ${issues}`);
    this.name = 'CorruptState';
  }
}

export interface RetryBudget {
  /** Retries after the first attempt, on conflicts only. */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudget = { maxRetries: 24, initialDelayMs: 4, maxDelayMs: 150 };

/** What an update decides: write `next` and answer `result`, or write nothing and answer `result`. */
export type UpdateDecision<D, R> = { write: D; result: R } | { write?: undefined; result: R };

export interface UpdateOutcome<R> {
  result: R;
  /** Attempts made (1 = no conflict). */
  attempts: number;
  wrote: boolean;
}

export interface CompareAndSetOptions<S extends z.ZodType, R> {
  store: StateStore;
  key: string;
  schema: S;
  /** Pure: called again on every attempt with what is stored then (`null` when absent). */
  decide: (current: z.infer<S> | null) => UpdateDecision<z.infer<S>, R>;
  /** Sent with the write; a function when it depends on what is written. */
  ttlSeconds?: number | ((written: z.infer<S>) => number);
  budget?: RetryBudget;
}

/**
 * Read–decide–write with optimistic concurrency (docs/dapr.md "Patterns"): an absent key is created
 * create-only, a present one saved with its ETag, both first-write. A conflict or a lost create race
 * re-reads and decides again, with decorrelated jitter, up to the retry budget; then `Conflict`
 * (409). Retries also stop when the request's time budget (deadline.ts) cannot cover the next
 * pause: then `Unavailable` (503), since the answer is "not now", not "someone else won".
 */
export async function updateWithRetry<S extends z.ZodType, R>(options: CompareAndSetOptions<S, R>): Promise<UpdateOutcome<R>> {
  const budget = options.budget ?? DEFAULT_RETRY_BUDGET;
  let backoff: IBackoff<unknown> | undefined;
  for (let attempts = 1; ; attempts += 1) {
    try {
      const outcome = await withAttempt(attempts, () => attemptOnce(options));
      return { ...outcome, attempts };
    } catch (error) {
      if (!(error instanceof Conflict)) throw error;
      if (attempts > budget.maxRetries) throw new Conflict('Too many concurrent changes. Retry the request.', { cause: error });
      backoff = backoff === undefined ? backoffFor(budget).next() : backoff.next(undefined);
      if (remainingMs() <= backoff.duration) {
        throw new Unavailable(`compare-and-set on ${options.key} stopped after ${attempts} attempts: the request's time budget ran out`, {
          cause: error,
        });
      }
      const pauseMs = backoff.duration;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

function backoffFor(budget: RetryBudget): ExponentialBackoff<unknown> {
  return new ExponentialBackoff({ initialDelay: budget.initialDelayMs, maxDelay: budget.maxDelayMs });
}

async function attemptOnce<S extends z.ZodType, R>(options: CompareAndSetOptions<S, R>): Promise<Omit<UpdateOutcome<R>, 'attempts'>> {
  const { store, key, schema, ttlSeconds } = options;
  const entry = await store.get(key);
  const current = entry === null ? null : parseStored(schema, key, entry.value);
  const decision = options.decide(current);
  if (decision.write === undefined) return { result: decision.result, wrote: false };
  const ttl = ttlSeconds === undefined ? {} : { ttlSeconds: typeof ttlSeconds === 'function' ? ttlSeconds(decision.write) : ttlSeconds };
  if (entry === null) {
    try {
      await store.save(key, decision.write, { mode: 'create-only', ...ttl });
    } catch (error) {
      // Someone created it between our read and our write: decide again on what they wrote.
      if (error instanceof AlreadyExists) throw new Conflict('The item was created concurrently.', { cause: error });
      throw error;
    }
  } else {
    await store.save(key, decision.write, { mode: 'compare-and-set', etag: entry.etag, ...ttl });
  }
  return { result: decision.result, wrote: true };
}

/** Parses a stored document; one that does not parse is corrupt, which is our bug, not the caller's. */
export function parseStored<S extends z.ZodType>(schema: S, key: string, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CorruptState(key, parsed.error.message);
  return parsed.data;
}
