import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How long past its budget a request may run before the HTTP wrapper's backstop answers 503 for it
 * (shared/http/handler.ts). Store calls end at the deadline themselves; this leaves the body a
 * moment to turn their failure into its own answer (which may say more, e.g. that a write's
 * outcome is known).
 */
export const BACKSTOP_GRACE_MS = 100;

/**
 * The time budget of the request being served, shared by every state call and compare-and-set
 * retry it makes (REQUEST_TIMEOUT_MS). The HTTP wrapper opens it; the state layer only reads it,
 * so this module knows nothing about HTTP. Code outside a request (scripts, tests calling a
 * service directly) has no budget: only each call's own timeout (DAPR_TIMEOUT_MS) applies.
 * Times are `performance.now()` milliseconds, immune to wall-clock jumps.
 */
const scope = new AsyncLocalStorage<{ readonly deadline: number }>();

/** Runs `fn` with a budget ending at `deadline` (a `performance.now()` time). */
export function runWithDeadline<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
  return scope.run({ deadline }, fn);
}

/** The current budget's end, or `undefined` outside a budget. */
export function currentDeadline(): number | undefined {
  return scope.getStore()?.deadline;
}

/** Milliseconds left in the current budget (≤ 0 once spent); `Infinity` outside a budget. */
export function remainingMs(): number {
  const current = scope.getStore();
  return current === undefined ? Number.POSITIVE_INFINITY : current.deadline - performance.now();
}
