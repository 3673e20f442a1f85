import { randomUUID } from 'node:crypto';
import {
  type BulkGetItem,
  checkOptions,
  type DeleteOperation,
  etagMismatch,
  failure,
  ok,
  type SaveOperation,
  type StateBackend,
  type StoredState,
  type StoreResult,
  success,
  type TransactionOperation,
} from './backend.js';
import { parseTtl, ttlExpireTime, UUID } from './postgres-rules.js';

/** A row of the component's `state` table. */
interface Row {
  value: string;
  etag: string;
  expiresAt: number | undefined;
}

/**
 * An in-memory store with the semantics of dapr's `state.postgresql` v2 component, for
 * `npm start`: UUID ETags, an ETag on an absent key is a mismatch, first-write only replaces an
 * expired row, a save without TTL clears the TTL, `ttlExpireTime` is returned and transactions
 * roll back. The real PostgreSQL backend (postgres-backend.ts) runs the component's SQL.
 */
export class MemoryPostgresBackend implements StateBackend {
  readonly flavour = 'postgresql';
  readonly capabilities = ['ETAG', 'TRANSACTIONAL', 'TTL'] as const;
  #rows = new Map<string, Row>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<StoreResult<StoredState | undefined>> {
    return success(this.#read(this.#rows, key));
  }

  async bulkGet(keys: readonly string[]): Promise<StoreResult<BulkGetItem[]>> {
    return success(keys.map((key) => ({ key, ...(this.#live(this.#rows, key) ? { state: this.#read(this.#rows, key) } : {}) })));
  }

  async save(operation: SaveOperation): Promise<StoreResult<void>> {
    return this.#set(this.#rows, operation);
  }

  async delete(operation: DeleteOperation): Promise<StoreResult<void>> {
    return this.#delete(this.#rows, operation);
  }

  /** All or nothing, like the component's SQL transaction. */
  async transact(operations: readonly TransactionOperation[]): Promise<StoreResult<void>> {
    const working = new Map(this.#rows);
    for (const op of operations) {
      const result = op.operation === 'upsert' ? this.#set(working, op.request) : this.#delete(working, op.request);
      if (!result.ok) return failure('store-failure', result.error.message);
    }
    this.#rows = working;
    return ok;
  }

  async close(): Promise<void> {
    this.#rows.clear();
  }

  #set(rows: Map<string, Row>, operation: SaveOperation): StoreResult<void> {
    const options = checkOptions(operation.options);
    if (!options.ok) return options;
    const ttl = parseTtl(operation.metadata);
    if (!ttl.ok) return ttl;
    const expiresAt = ttl.value !== undefined && ttl.value > 0 ? this.#now() + ttl.value * 1000 : undefined;
    const row: Row = { value: operation.value, etag: randomUUID(), expiresAt };
    const current = this.#live(rows, operation.key);
    if (operation.etag !== undefined && operation.etag !== '') {
      if (!UUID.test(operation.etag)) return failure('etag-mismatch', etagMismatch(`invalid UUID ${JSON.stringify(operation.etag)}`));
      if (current?.etag !== operation.etag) return failure('etag-mismatch', etagMismatch('no row matched the key and ETag'));
    } else if (operation.options.concurrency === 'first-write' && current) {
      return failure('first-write-collision', 'no item was updated');
    }
    rows.set(operation.key, row);
    return ok;
  }

  #delete(rows: Map<string, Row>, operation: DeleteOperation): StoreResult<void> {
    if (operation.etag === undefined || operation.etag === '') {
      rows.delete(operation.key);
      return ok;
    }
    if (!UUID.test(operation.etag)) return failure('etag-mismatch', etagMismatch(`invalid UUID ${JSON.stringify(operation.etag)}`));
    // Like the component's DELETE … WHERE key AND etag: an expired row still matches.
    if (rows.get(operation.key)?.etag !== operation.etag) return failure('etag-mismatch', etagMismatch('no row matched the key and ETag'));
    rows.delete(operation.key);
    return ok;
  }

  #read(rows: Map<string, Row>, key: string): StoredState | undefined {
    const row = this.#live(rows, key);
    if (!row) return undefined;
    return {
      value: row.value,
      etag: row.etag,
      ...(row.expiresAt === undefined ? {} : { metadata: { ttlExpireTime: ttlExpireTime(new Date(row.expiresAt)) } }),
    };
  }

  /** Expired rows stay until overwritten or deleted (the component's clean-up) but are never visible. */
  #live(rows: Map<string, Row>, key: string): Row | undefined {
    const row = rows.get(key);
    return row?.expiresAt !== undefined && row.expiresAt < this.#now() ? undefined : row;
  }
}
