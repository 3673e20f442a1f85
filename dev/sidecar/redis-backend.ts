import { Redis } from 'ioredis';
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
import type { ComponentSpec } from './components.js';
import { deleteEtag, type PreparedUpsert, prepareUpsert } from './redis-rules.js';

/**
 * dapr's `state.redis` against a real Redis, in the component's own layout: each key is a hash
 * `{data, version[, first-write]}` written by the component's Lua scripts, so a real daprd reads
 * what this writes and the other way round. TTLs are Redis `EXPIRE`/`PERSIST`.
 */

// The scripts of components-contrib state/redis/redis.go (setDefaultQuery, delDefaultQuery).
const SET_SCRIPT = `
local etag = redis.pcall("HGET", KEYS[1], "version");
if type(etag) == "table" then
  redis.call("DEL", KEYS[1]);
end;
local fwr = redis.pcall("HGET", KEYS[1], "first-write");
if not etag or type(etag)=="table" or etag == "" or etag == ARGV[1] or (not fwr and ARGV[1] == "0") then
  redis.call("HSET", KEYS[1], "data", ARGV[2]);
  if ARGV[3] == "0" then
    redis.call("HSET", KEYS[1], "first-write", 0);
  end;
  return redis.call("HINCRBY", KEYS[1], "version", 1)
else
  return error("failed to set key " .. KEYS[1])
end`;

const DEL_SCRIPT = `
local etag = redis.pcall("HGET", KEYS[1], "version");
if not etag or type(etag)=="table" or etag == ARGV[1] or etag == "" or ARGV[1] == "0" then
  return redis.call("DEL", KEYS[1])
else
  return error("failed to delete " .. KEYS[1])
end`;

export interface RedisSettings {
  host: string;
  port: number;
  password?: string;
  db: number;
  tls: boolean;
  /** The component-wide `ttlInSeconds`, applied when a save names none. */
  defaultTtlSeconds?: number;
}

/** Reads the component metadata the way the component does (`redisHost` is `host:port`). */
export function redisSettings(component: ComponentSpec): RedisSettings {
  const meta = component.metadata;
  const [host = '127.0.0.1', port = '6379'] = (meta.redisHost ?? '127.0.0.1:6379').split(':');
  const defaultTtl = meta.ttlInSeconds ? Number(meta.ttlInSeconds) : undefined;
  if (defaultTtl !== undefined && !Number.isInteger(defaultTtl)) {
    throw new Error(`component ${component.name}: ttlInSeconds must be an integer`);
  }
  return {
    host,
    port: Number(port),
    ...(meta.redisPassword ? { password: meta.redisPassword } : {}),
    db: Number(meta.redisDB ?? 0),
    tls: meta.enableTLS === 'true',
    ...(defaultTtl === undefined ? {} : { defaultTtlSeconds: defaultTtl }),
  };
}

export class RedisBackend implements StateBackend {
  readonly flavour = 'redis';
  readonly capabilities = ['ETAG', 'TRANSACTIONAL', 'TTL'] as const;

  private constructor(
    private readonly redis: Redis,
    private readonly settings: RedisSettings,
  ) {}

  /** Connects (failing at once if Redis is not there), then keeps reconnecting in the background. */
  static async connect(settings: RedisSettings): Promise<RedisBackend> {
    const redis = new Redis({
      host: settings.host,
      port: settings.port,
      db: settings.db,
      ...(settings.password ? { password: settings.password } : {}),
      ...(settings.tls ? { tls: {} } : {}),
      lazyConnect: true,
      // Fail calls while disconnected instead of queueing them: daprd answers 500 then, not hangs.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      commandTimeout: 3000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    redis.on('error', () => {
      // Connection errors surface as failed calls; ioredis keeps reconnecting.
    });
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`redis store: error connecting to redis at ${settings.host}:${settings.port}: ${describe(error)}`);
    }
    return new RedisBackend(redis, settings);
  }

  async get(key: string): Promise<StoreResult<StoredState | undefined>> {
    try {
      return success(await this.#read(key));
    } catch (error) {
      return failure('store-failure', describe(error));
    }
  }

  async bulkGet(keys: readonly string[]): Promise<StoreResult<BulkGetItem[]>> {
    // daprd's default bulk get: one get per key, in parallel, errors reported per key.
    const items = await Promise.all(
      keys.map(async (key): Promise<BulkGetItem> => {
        try {
          const state = await this.#read(key);
          return state === undefined ? { key } : { key, state };
        } catch (error) {
          return { key, error: describe(error) };
        }
      }),
    );
    return success(items);
  }

  async save(operation: SaveOperation): Promise<StoreResult<void>> {
    const options = checkOptions(operation.options);
    if (!options.ok) return options;
    const prepared = prepareUpsert(operation);
    if (!prepared.ok) return prepared;
    const { key, data, version } = prepared.value;
    const firstWriteFlag = operation.options.concurrency === 'first-write' ? '0' : '1';
    try {
      await this.redis.eval(SET_SCRIPT, 1, key, String(version), data, firstWriteFlag);
    } catch (error) {
      // As the component does: with an ETag sent, any failure (a lost connection too) is reported
      // as an ETag mismatch; without one, as "failed to set key".
      if (operation.etag !== undefined) return failure('etag-mismatch', etagMismatch(describe(error)));
      return failure(isScriptRefusal(error) ? 'first-write-collision' : 'store-failure', `failed to set key ${key}: ${describe(error)}`);
    }
    try {
      await this.#applyTtl(key, this.#ttl(prepared.value));
    } catch (error) {
      return failure('store-failure', `failed to set key ${key} ttl: ${describe(error)}`);
    }
    return ok;
  }

  async delete(operation: DeleteOperation): Promise<StoreResult<void>> {
    const options = checkOptions(operation.options);
    if (!options.ok) return options;
    try {
      await this.redis.eval(DEL_SCRIPT, 1, operation.key, deleteEtag(operation.etag));
      return ok;
    } catch (error) {
      // The component wraps every delete failure, a lost connection included, as an ETag mismatch.
      return failure('etag-mismatch', etagMismatch(describe(error)));
    }
  }

  /** MULTI/EXEC like the component: every command runs, there is no rollback, the first error is reported. */
  async transact(operations: readonly TransactionOperation[]): Promise<StoreResult<void>> {
    const pipeline = this.redis.multi();
    for (const { operation, request } of operations) {
      if (operation === 'delete') {
        pipeline.eval(DEL_SCRIPT, 1, request.key, deleteEtag(request.etag));
        continue;
      }
      const prepared = prepareUpsert(request);
      if (!prepared.ok) return prepared;
      const { key, data, version } = prepared.value;
      // The component passes no first-write flag here, so transactions never set the marker.
      pipeline.eval(SET_SCRIPT, 1, key, String(version), data);
      const ttl = this.#ttl(prepared.value);
      if (ttl !== undefined && ttl > 0) pipeline.expire(key, ttl);
      else if (ttl !== undefined) pipeline.persist(key);
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      const firstError = results.find(([error]) => error !== null)?.[0];
      return firstError ? failure('store-failure', describe(firstError)) : ok;
    } catch (error) {
      return failure('store-failure', describe(error));
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  #ttl(upsert: PreparedUpsert): number | undefined {
    return upsert.ttlSeconds ?? this.settings.defaultTtlSeconds;
  }

  async #applyTtl(key: string, ttlSeconds: number | undefined): Promise<void> {
    if (ttlSeconds === undefined) return;
    if (ttlSeconds > 0) await this.redis.expire(key, ttlSeconds);
    else await this.redis.persist(key);
  }

  async #read(key: string): Promise<StoredState | undefined> {
    let fields: Record<string, string>;
    try {
      fields = await this.redis.hgetall(key);
    } catch {
      // Like the component: any HGETALL error falls back to a plain GET (values from before hashes).
      const value = await this.redis.get(key);
      return value === null ? undefined : { value };
    }
    if (Object.keys(fields).length === 0) return undefined;
    if (fields.data === undefined || fields.version === undefined) {
      throw new Error(`required hash field 'data' or 'version' was not found in ${key}`);
    }
    return { value: fields.data, etag: fields.version };
  }
}

/** The set script refuses with this error; anything else is Redis itself failing. */
function isScriptRefusal(error: unknown): boolean {
  return /failed to set key/.test(describe(error));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
