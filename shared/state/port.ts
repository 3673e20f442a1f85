/**
 * The state port: the few operations our services need from a state store, with typed results.
 * Errors: `Conflict` (an ETag did not match), `AlreadyExists` (a create-only save found the key),
 * `Unavailable` (network, timeout, the store's 5xx, open circuit, or the request's time budget
 * spent; see deadline.ts). Anything else thrown (a value that cannot be serialised, an answer that
 * cannot be read) is a bug: a 500, never a 503. Absent keys read as `null`.
 *
 * Outcome of a failed write (`save`, `saveBulk`, `delete`, `transaction`) that throws `Unavailable`:
 * - `outcomeUnknown: false` — the write was never sent, or the store said it failed before
 *   applying it: connection refused, circuit open, the budget already spent, the sidecar not ready
 *   yet, the database unreachable from the sidecar. Nothing changed; a retry is safe.
 * - `outcomeUnknown: true` — the write was sent and no answer came back: our timer fired after it
 *   left, the connection was reset mid-request, or the store timed out after receiving it. It may
 *   have been applied. Read the key back to find out before answering; when even that fails, the
 *   503 says `"outcome": "unknown"` (errors.ts) and the client retries with its Idempotency-Key.
 * Reads never carry `outcomeUnknown`.
 */
export interface StateEntry {
  /** The stored JSON value; parse it with a schema before use. */
  value: unknown;
  etag: string;
}

/**
 * How a save treats what is stored:
 * - `create-only`: succeeds only when the key is absent (or expired), else `AlreadyExists`;
 * - `compare-and-set`: succeeds only when the stored ETag still equals `etag`, else `Conflict`.
 *   Caveat (Redis): a key that is absent accepts any ETag, so a compare-and-set racing a delete
 *   recreates the key. Keys that concurrent writers update are therefore cleared by writing an
 *   empty document with compare-and-set, never by `delete`;
 * - `overwrite`: last write wins.
 * A key written with `create-only`/`compare-and-set` must never be written with `overwrite`, and the
 * reverse (Redis keeps a sticky first-write marker; see docs/dapr.md).
 * `ttlSeconds` must be sent on every save of a key that must expire.
 */
export type SaveOptions =
  | { mode: 'create-only'; ttlSeconds?: number }
  | { mode: 'compare-and-set'; etag: string; ttlSeconds?: number }
  | { mode: 'overwrite'; ttlSeconds?: number };

/**
 * Create-only is not offered inside transactions: Redis transactions do not set the first-write
 * marker that makes later create-only saves on the key safe.
 */
export type TransactionOperation =
  | { kind: 'upsert'; key: string; value: unknown; options: Exclude<SaveOptions, { mode: 'create-only' }> }
  | { kind: 'delete'; key: string; etag?: string };

export interface BulkEntry {
  key: string;
  entry: StateEntry | null;
}

export interface StateStore {
  readonly name: string;
  get(key: string): Promise<StateEntry | null>;
  save(key: string, value: unknown, options: SaveOptions): Promise<void>;
  /**
   * Saves many items in one call. Not atomic: each item succeeds or fails on its own, and one
   * failure fails the call (create-only collisions as `AlreadyExists`), so read back to see which.
   */
  saveBulk(items: ReadonlyArray<{ key: string; value: unknown; options: SaveOptions }>): Promise<void>;
  delete(key: string, options?: { etag?: string }): Promise<void>;
  /** Entries in the order of `keys`; absent keys have `entry: null`. */
  getBulk(keys: readonly string[]): Promise<BulkEntry[]>;
  transaction(operations: readonly TransactionOperation[]): Promise<void>;
  /** Resolves when the store answers a read through the sidecar; throws Unavailable otherwise. */
  ping(): Promise<void>;
}
