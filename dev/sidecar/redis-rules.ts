import { failure, success, type Metadata, type SaveOperation, type StoreResult } from './backend.js';

/**
 * How dapr's `state.redis` component (components-contrib `state/redis/redis.go`) reads a request
 * before it reaches Redis: shared by the in-memory backend and the real Redis backend.
 */

const INTEGER = /^[+-]?\d+$/;

/** A parsed upsert, ready to run like one step of a Redis pipeline; `version` 0 means "no ETag". */
export interface PreparedUpsert {
  key: string;
  data: string;
  version: number;
  ttlSeconds: number | undefined;
}

export function prepareUpsert(operation: SaveOperation): StoreResult<PreparedUpsert> {
  const version = parseEtag(operation);
  if (!version.ok) return version;
  const ttlSeconds = parseTtl(operation.metadata);
  if (!ttlSeconds.ok) return ttlSeconds;
  return success({ key: operation.key, data: operation.value, version: version.value, ttlSeconds: ttlSeconds.value });
}

/** Redis ignores the ETag under explicit last-write; otherwise it must be an integer. */
function parseEtag({ etag, options }: SaveOperation): StoreResult<number> {
  if (options.concurrency === 'last-write' || !hasEtag(etag)) return success(0);
  if (!INTEGER.test(etag)) {
    return failure('etag-invalid', `invalid etag value: strconv.Atoi: parsing ${JSON.stringify(etag)}: invalid syntax`);
  }
  return success(Number(etag));
}

export function parseTtl(metadata: Metadata): StoreResult<number | undefined> {
  const raw = metadata.ttlInSeconds;
  if (raw === undefined || raw === '') return success(undefined);
  if (!INTEGER.test(raw)) {
    return failure('store-failure', `failed to parse ttl from metadata: strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
  }
  return success(Number(raw));
}

function hasEtag(etag: string | undefined): etag is string {
  return etag !== undefined && etag !== '';
}

export function deleteEtag(etag: string | undefined): string {
  return hasEtag(etag) ? etag : '0';
}
