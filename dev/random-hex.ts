import { randomUUID } from 'node:crypto';

/**
 * 32 random hex digits (a trace id; its first 16 make a span id). randomUUID draws from a cached
 * entropy pool: a synchronous randomBytes per request made every call measurably slower under load.
 */
export function randomHex(): string {
  return randomUUID().replaceAll('-', '');
}
