import type { Reply, RequestContext } from '../http/handler.js';
import { type IdempotencyScope, idempotencyKeySchema } from './idempotency-service.js';

/**
 * Wraps a create-like function body: without an `Idempotency-Key` header it just runs; with one
 * (400 at `headers.idempotency-key` when malformed) the same key and request within 24 h answer
 * the first reply again (see idempotency-service.ts). `run` receives the id derived from the key
 * (undefined without one), for what it creates.
 */
export async function idempotent(
  ctx: RequestContext,
  scope: Omit<IdempotencyScope, 'key'>,
  run: (derivedId: string | undefined) => Promise<Reply>,
): Promise<Reply> {
  const key = ctx.header('idempotency-key', idempotencyKeySchema);
  if (key === undefined) return run(undefined);
  return ctx.deps.idempotency.run({ ...scope, key }, run, ctx.log);
}
