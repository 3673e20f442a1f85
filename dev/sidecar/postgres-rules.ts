import { failure, type Metadata, type StoreResult, success } from './backend.js';

/**
 * How dapr's `state.postgresql` v2 component reads a request (components-contrib
 * `state/postgresql/v2/postgresql.go`): shared by the real PostgreSQL backend and the in-memory one.
 */

/** v2 ETags are random UUIDs; anything else can match no row, which the component calls a mismatch. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseTtl(metadata: Metadata): StoreResult<number | undefined> {
  const raw = metadata.ttlInSeconds;
  if (raw === undefined || raw === '') return success(undefined);
  if (!/^[+-]?\d+$/.test(raw)) return failure('store-failure', `error parsing TTL: incorrect value for metadata 'ttlInSeconds': ${raw}`);
  return success(Number(raw));
}

/** `ttlExpireTime` as the component reports it: Go's time.RFC3339, seconds precision, UTC "Z". */
export function ttlExpireTime(expiresAt: Date): string {
  return expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
