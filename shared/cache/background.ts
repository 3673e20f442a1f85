import { AsyncResource } from 'node:async_hooks';

/**
 * A timer inherits its creator's async context, and with it the time budget of the request that
 * set it (shared/state may bound every call by that budget): work meant to outlive a request would
 * then fail as soon as the request is over. Created at module load, outside any request.
 */
const outsideRequests = new AsyncResource('background-work');

/** Runs `work` after `delayMs`, outside any request's async context; the timer never keeps the process alive. */
export function inBackground(work: () => void, delayMs: number): NodeJS.Timeout {
  const timer = outsideRequests.runInAsyncScope(() => setTimeout(work, delayMs));
  timer.unref();
  return timer;
}
