import { randomUUID } from 'node:crypto';

/** A unique id per test run, so suites can run in parallel and on a dirty store. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}
