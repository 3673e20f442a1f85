/**
 * The port between the sidecar stand-in's HTTP layer and a state store.
 *
 * Keys reaching a backend are already prefixed (`{appId}||{key}`); values are JSON text.
 * Backends never throw for expected store outcomes: they return a {@link StoreResult} whose
 * error kind the server maps to daprd's HTTP status and error code.
 */

/**
 * Which real component's semantics a backend reproduces. The server uses it where daprd's
 * answer depends on the store (see `statusForStoreError` in api-errors.ts).
 */
export type StoreFlavour = 'redis' | 'postgresql';

export type StoreErrorKind =
  /** An ETag was sent and did not match (daprd: 409). */
  | 'etag-mismatch'
  /** The store could not parse the ETag (Redis: 400; Postgres treats it as a mismatch: 409). */
  | 'etag-invalid'
  /** A save without ETag lost against an existing first-write key (Redis "failed to set key",
   *  Postgres "no item was updated"; daprd: 500). */
  | 'first-write-collision'
  /** Anything else the store reports (daprd: 500). */
  | 'store-failure';

export interface StoreError {
  kind: StoreErrorKind;
  /** The store's own error text; daprd embeds it in the response message. */
  message: string;
}

export type StoreResult<T> = { ok: true; value: T } | { ok: false; error: StoreError };

export type Metadata = Readonly<Record<string, string>>;

export interface StateOptions {
  /** `first-write` | `last-write`; other strings are passed through so the store can reject them like daprd. */
  concurrency?: string;
  consistency?: string;
}

export interface SaveOperation {
  key: string;
  /** JSON text of the value, exactly as it will be returned by a read. */
  value: string;
  /** `undefined` = no ETag sent; `""` = sent empty (stores differ on what that means). */
  etag?: string;
  metadata: Metadata;
  options: StateOptions;
}

export interface DeleteOperation {
  key: string;
  etag?: string;
  metadata: Metadata;
  options: StateOptions;
}

export type TransactionOperation = { operation: 'upsert'; request: SaveOperation } | { operation: 'delete'; request: DeleteOperation };

export interface StoredState {
  /** JSON text. */
  value: string;
  etag?: string;
  /** Response metadata such as `ttlExpireTime`, returned as `metadata.*` headers. */
  metadata?: Record<string, string>;
}

export interface BulkGetItem {
  key: string;
  state?: StoredState;
  /** A per-key failure, reported inline by daprd instead of failing the whole call. */
  error?: string;
}

export interface StateBackend {
  readonly flavour: StoreFlavour;
  /** Reported by `GET /v1.0/metadata`, e.g. `ETAG`, `TRANSACTIONAL`, `TTL`. */
  readonly capabilities: readonly string[];
  /** `undefined` when the key is absent or expired. */
  get(key: string, metadata: Metadata): Promise<StoreResult<StoredState | undefined>>;
  /** One item per key, in the order given. */
  bulkGet(keys: readonly string[], metadata: Metadata): Promise<StoreResult<BulkGetItem[]>>;
  save(operation: SaveOperation): Promise<StoreResult<void>>;
  delete(operation: DeleteOperation): Promise<StoreResult<void>>;
  transact(operations: readonly TransactionOperation[], metadata: Metadata): Promise<StoreResult<void>>;
  close(): Promise<void>;
}

export const ok: StoreResult<void> = { ok: true, value: undefined };

export function success<T>(value: T): StoreResult<T> {
  return { ok: true, value };
}

export function failure<T = never>(kind: StoreErrorKind, message: string): StoreResult<T> {
  return { ok: false, error: { kind, message } };
}

const CONCURRENCY = new Set(['', 'first-write', 'last-write']);
const CONSISTENCY = new Set(['', 'eventual', 'strong']);

/** components-contrib `state.CheckRequestOptions`, which every component runs first. */
export function checkOptions({ concurrency = '', consistency = '' }: StateOptions): StoreResult<void> {
  if (!CONSISTENCY.has(consistency)) return failure('store-failure', `unrecognized consistency model '${consistency}'`);
  if (!CONCURRENCY.has(concurrency)) return failure('store-failure', `unrecognized concurrency model '${concurrency}'`);
  return ok;
}

/** The text of components-contrib's `state.NewETagError(ETagMismatch, cause)`. */
export function etagMismatch(cause: string): string {
  return `possible etag mismatch. error from state store: ${cause}`;
}
