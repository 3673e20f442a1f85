import {
  checkOptions,
  etagMismatch,
  failure,
  ok,
  success,
  type BulkGetItem,
  type DeleteOperation,
  type SaveOperation,
  type StateBackend,
  type StoredState,
  type StoreResult,
  type TransactionOperation,
} from './backend.js';
import { deleteEtag, type PreparedUpsert, prepareUpsert } from './redis-rules.js';

export interface MemoryBackendOptions {
  /** Milliseconds since the epoch; tests inject a fake clock to expire keys without sleeping. */
  now?: () => number;
}

/** The Redis hash `{data, version[, first-write]}` plus the key's expiry. */
interface Entry {
  data: string;
  version: number;
  firstWrite: boolean;
  expiresAt: number | undefined;
}

/**
 * An in-memory store with the semantics of dapr's `state.redis` component (components-contrib
 * `state/redis/redis.go`): integer version ETags, the sticky first-write marker, EXPIRE/PERSIST
 * TTLs and MULTI transactions without rollback.
 */
export class MemoryBackend implements StateBackend {
  readonly flavour = 'redis';
  readonly capabilities = ['ETAG', 'TRANSACTIONAL', 'TTL'] as const;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(options: MemoryBackendOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<StoreResult<StoredState | undefined>> {
    return success(this.#read(key));
  }

  async bulkGet(keys: readonly string[]): Promise<StoreResult<BulkGetItem[]>> {
    return success(keys.map((key) => ({ key, state: this.#read(key) })));
  }

  async save(operation: SaveOperation): Promise<StoreResult<void>> {
    const options = checkOptions(operation.options);
    if (!options.ok) return options;
    const prepared = prepareUpsert(operation);
    if (!prepared.ok) return prepared;

    const { key, data, version, ttlSeconds } = prepared.value;
    const firstWrite = operation.options.concurrency === 'first-write';
    if (!this.#setScript(key, data, version, firstWrite)) {
      // As the component: any ETag sent, even an empty one, makes a refusal an ETag mismatch.
      return operation.etag !== undefined
        ? failure('etag-mismatch', etagMismatch(`failed to set key ${key}`))
        : failure('first-write-collision', `failed to set key ${key}`);
    }
    this.#applyTtl(key, ttlSeconds);
    return ok;
  }

  async delete(operation: DeleteOperation): Promise<StoreResult<void>> {
    const options = checkOptions(operation.options);
    if (!options.ok) return options;
    if (!this.#delScript(operation.key, deleteEtag(operation.etag))) {
      return failure('etag-mismatch', etagMismatch(`failed to delete ${operation.key}`));
    }
    return ok;
  }

  async transact(operations: readonly TransactionOperation[]): Promise<StoreResult<void>> {
    // Parse errors surface while the pipeline is being built, so nothing has been written yet.
    const steps: Array<PreparedUpsert | DeleteOperation> = [];
    for (const { operation, request } of operations) {
      if (operation === 'delete') {
        steps.push(request);
        continue;
      }
      const prepared = prepareUpsert(request);
      if (!prepared.ok) return prepared;
      steps.push(prepared.value);
    }
    return this.#exec(steps);
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }

  /** Stored keys (with their prefix) that have not expired; lets tests observe key prefixes. */
  storedKeys(): string[] {
    return [...this.#entries.keys()].filter((key) => this.#live(key) !== undefined);
  }

  /**
   * Like Redis EXEC: every command runs even after one fails (no rollback), and the first error
   * is reported. The upsert's EXPIRE/PERSIST is its own command, so it runs even if the set failed.
   */
  #exec(steps: ReadonlyArray<PreparedUpsert | DeleteOperation>): StoreResult<void> {
    let firstError: string | undefined;
    for (const step of steps) {
      if ('data' in step) {
        // Multi passes no first-write flag to the script: transactions never set the marker.
        if (!this.#setScript(step.key, step.data, step.version, false)) {
          firstError ??= `failed to set key ${step.key}`;
        }
        this.#applyTtl(step.key, step.ttlSeconds);
      } else if (!this.#delScript(step.key, deleteEtag(step.etag))) {
        firstError ??= `failed to delete ${step.key}`;
      }
    }
    return firstError === undefined ? ok : failure('store-failure', firstError);
  }

  /** The `setDefaultQuery` Lua script; `version` 0 means "no ETag". */
  #setScript(key: string, data: string, version: number, firstWrite: boolean): boolean {
    const existing = this.#live(key);
    const allowed = existing === undefined || existing.version === version || (!existing.firstWrite && version === 0);
    if (!allowed) return false;
    this.#entries.set(key, {
      data,
      version: (existing?.version ?? 0) + 1,
      firstWrite: (existing?.firstWrite ?? false) || firstWrite,
      expiresAt: existing?.expiresAt,
    });
    return true;
  }

  /** The `delDefaultQuery` Lua script: string comparison, and "0" deletes unconditionally. */
  #delScript(key: string, etag: string): boolean {
    const existing = this.#live(key);
    if (existing !== undefined && etag !== '0' && String(existing.version) !== etag) return false;
    this.#entries.delete(key);
    return true;
  }

  /** EXPIRE when positive, PERSIST when ≤ 0, and no TTL given keeps the old one. */
  #applyTtl(key: string, ttlSeconds: number | undefined): void {
    const entry = this.#live(key);
    if (entry === undefined || ttlSeconds === undefined) return;
    entry.expiresAt = ttlSeconds > 0 ? this.#now() + ttlSeconds * 1000 : undefined;
  }

  #read(key: string): StoredState | undefined {
    const entry = this.#live(key);
    return entry && { value: entry.data, etag: String(entry.version) };
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && this.#now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
