import { randomUUID } from 'node:crypto';
import pg from 'pg';
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
import { parseTtl, ttlExpireTime, UUID } from './postgres-rules.js';

/**
 * dapr's `state.postgresql` v2 against a real PostgreSQL, in the component's own layout
 * (components-contrib `state/postgresql/v2/postgresql.go`): table `{tablePrefix}state` with
 * `key, value bytea, etag uuid, created_at, updated_at, expires_at`, migrations recorded in
 * `dapr_metadata`, expired rows hidden on read and deleted every `cleanupInterval`.
 */

export interface PostgresSettings {
  connection: pg.PoolConfig;
  tablePrefix: string;
  metadataTableName: string;
  /** Milliseconds between clean-ups of expired rows; undefined disables them. */
  cleanupIntervalMs: number | undefined;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export function postgresSettings(component: ComponentSpec): PostgresSettings {
  const meta = component.metadata;
  if (!meta.connectionString) throw new Error(`component ${component.name}: connectionString is required`);
  const tablePrefix = meta.tablePrefix ?? '';
  const metadataTableName = meta.metadataTableName || 'dapr_metadata';
  for (const name of [`${tablePrefix}state`, metadataTableName]) {
    if (!IDENTIFIER.test(name)) throw new Error(`component ${component.name}: invalid table name ${JSON.stringify(name)}`);
  }
  const interval = parseDuration(meta.cleanupInterval ?? '1h');
  return {
    connection: poolConfig(meta.connectionString),
    tablePrefix,
    metadataTableName,
    cleanupIntervalMs: interval !== undefined && interval > 0 ? interval : undefined,
  };
}

export class PostgresBackend implements StateBackend {
  readonly flavour = 'postgresql';
  readonly capabilities = ['ETAG', 'TRANSACTIONAL', 'TTL'] as const;
  readonly #table: string;
  #cleanup: NodeJS.Timeout | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly settings: PostgresSettings,
  ) {
    this.#table = `${settings.tablePrefix}state`;
  }

  /** Connects, runs the component's migration once (under an advisory lock) and schedules clean-ups. */
  static async connect(settings: PostgresSettings): Promise<PostgresBackend> {
    const pool = new pg.Pool({ max: 10, connectionTimeoutMillis: 3000, query_timeout: 20_000, ...settings.connection });
    pool.on('error', () => {
      // An idle client lost its connection; the pool replaces it and calls report their own errors.
    });
    const backend = new PostgresBackend(pool, settings);
    try {
      await backend.#migrate();
    } catch (error) {
      await pool.end();
      throw new Error(`failed to set up the PostgreSQL state store: ${describe(error)}`);
    }
    if (settings.cleanupIntervalMs !== undefined) {
      backend.#cleanup = setInterval(() => void backend.cleanupExpired().catch(() => undefined), settings.cleanupIntervalMs);
      backend.#cleanup.unref();
    }
    return backend;
  }

  async get(key: string): Promise<StoreResult<StoredState | undefined>> {
    try {
      const { rows } = await this.pool.query<Row>(
        `SELECT key, value, etag, expires_at FROM ${this.#table} WHERE key = $1 AND (expires_at IS NULL OR expires_at >= now())`,
        [key],
      );
      const row = rows[0];
      return success(row === undefined ? undefined : toState(row));
    } catch (error) {
      return failure('store-failure', describe(error));
    }
  }

  /** The component's native bulk get: one query, answered in request order. */
  async bulkGet(keys: readonly string[]): Promise<StoreResult<BulkGetItem[]>> {
    try {
      const { rows } = await this.pool.query<Row>(
        `SELECT key, value, etag, expires_at FROM ${this.#table} WHERE key = ANY($1) AND (expires_at IS NULL OR expires_at >= now())`,
        [keys],
      );
      const found = new Map(rows.map((row) => [row.key, toState(row)]));
      return success(keys.map((key) => ({ key, ...(found.has(key) ? { state: found.get(key) } : {}) })));
    } catch (error) {
      return failure('store-failure', describe(error));
    }
  }

  save(operation: SaveOperation): Promise<StoreResult<void>> {
    return this.#set(this.pool, operation);
  }

  delete(operation: DeleteOperation): Promise<StoreResult<void>> {
    return this.#delete(this.pool, operation);
  }

  /** A real transaction: all operations or none (unlike Redis). */
  async transact(operations: readonly TransactionOperation[]): Promise<StoreResult<void>> {
    const run = (db: Queryable, op: TransactionOperation) =>
      op.operation === 'upsert' ? this.#set(db, op.request) : this.#delete(db, op.request);
    const [only] = operations;
    if (operations.length === 1 && only) return run(this.pool, only);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      return failure('store-failure', describe(error));
    }
    try {
      await client.query('BEGIN');
      for (const op of operations) {
        const result = await run(client, op);
        if (!result.ok) {
          await client.query('ROLLBACK');
          return failure('store-failure', result.error.message);
        }
      }
      await client.query('COMMIT');
      return ok;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      return failure('store-failure', describe(error));
    } finally {
      client.release();
    }
  }

  /** What the component's garbage collector does every `cleanupInterval`. */
  async cleanupExpired(): Promise<number> {
    const result = await this.pool.query(`DELETE FROM ${this.#table} WHERE expires_at IS NOT NULL AND expires_at < now()`);
    await this.pool.query(
      `INSERT INTO ${this.settings.metadataTableName} (key, value) VALUES ($1, now()::text)
       ON CONFLICT (key) DO UPDATE SET value = now()::text`,
      [`last-cleanup-state-v2-${this.settings.tablePrefix}`],
    );
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    clearInterval(this.#cleanup);
    await this.pool.end();
  }

  async #set(db: Queryable, operation: SaveOperation): Promise<StoreResult<void>> {
    const options = checkOptions(operation.options);
    if (!options.ok) return options;
    const ttl = parseTtl(operation.metadata);
    if (!ttl.ok) return ttl;
    const expiresAt = ttl.value !== undefined && ttl.value > 0 ? `now() + interval '${ttl.value} seconds'` : 'NULL';
    const value = Buffer.from(operation.value, 'utf8');
    try {
      if (operation.etag !== undefined && operation.etag !== '') {
        // An ETag that is not a UUID can match no row: the component calls that a mismatch.
        if (!UUID.test(operation.etag)) return failure('etag-mismatch', etagMismatch(`invalid UUID ${JSON.stringify(operation.etag)}`));
        const result = await db.query(
          `UPDATE ${this.#table} SET value = $2, updated_at = now(), etag = $4, expires_at = ${expiresAt}
           WHERE key = $1 AND etag = $3 AND (expires_at IS NULL OR expires_at >= now())`,
          [operation.key, value, operation.etag, randomUUID()],
        );
        return result.rowCount === 1 ? ok : failure('etag-mismatch', etagMismatch('no row matched the key and ETag'));
      }
      // An upsert either way; first-write only replaces a row that has expired but is not yet cleaned up.
      const onlyExpired =
        operation.options.concurrency === 'first-write' ? ' WHERE (t.expires_at IS NOT NULL AND t.expires_at < now())' : '';
      const result = await db.query(
        `INSERT INTO ${this.#table} AS t (key, value, etag, expires_at) VALUES ($1, $2, $3, ${expiresAt})
         ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now(), etag = $3, expires_at = ${expiresAt}${onlyExpired}`,
        [operation.key, value, randomUUID()],
      );
      return result.rowCount === 1 ? ok : failure('first-write-collision', 'no item was updated');
    } catch (error) {
      return failure('store-failure', describe(error));
    }
  }

  async #delete(db: Queryable, operation: DeleteOperation): Promise<StoreResult<void>> {
    try {
      if (operation.etag === undefined || operation.etag === '') {
        await db.query(`DELETE FROM ${this.#table} WHERE key = $1`, [operation.key]);
        return ok;
      }
      if (!UUID.test(operation.etag)) return failure('etag-mismatch', etagMismatch(`invalid UUID ${JSON.stringify(operation.etag)}`));
      const result = await db.query(`DELETE FROM ${this.#table} WHERE key = $1 AND etag = $2`, [operation.key, operation.etag]);
      return result.rowCount === 1 ? ok : failure('etag-mismatch', etagMismatch('no row matched the key and ETag'));
    } catch (error) {
      return failure('store-failure', describe(error));
    }
  }

  async #migrate(): Promise<void> {
    const client = await this.pool.connect();
    const migrationKey = `migrations-state-v2-${this.settings.tablePrefix}`;
    try {
      await client.query('BEGIN');
      // Several sidecars (or test processes) may start at once: one migrates, the others wait.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`dapr-${migrationKey}`]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.settings.metadataTableName} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`,
      );
      const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${this.settings.metadataTableName} WHERE key = $1`, [
        migrationKey,
      ]);
      if (Number(rows[0]?.value ?? 0) < 1) {
        await client.query(`
          CREATE TABLE IF NOT EXISTS ${this.#table} (
            key text NOT NULL PRIMARY KEY,
            value bytea NOT NULL,
            etag uuid NOT NULL DEFAULT gen_random_uuid(),
            created_at timestamp with time zone NOT NULL DEFAULT now(),
            updated_at timestamp with time zone,
            expires_at timestamp with time zone
          )`);
        // The component's unnamed index gets exactly this name from PostgreSQL; naming it makes the
        // statement safe to repeat when the table exists but its migration row does not.
        await client.query(`CREATE INDEX IF NOT EXISTS ${this.#table}_expires_at_idx ON ${this.#table} (expires_at)`);
        await client.query(
          `INSERT INTO ${this.settings.metadataTableName} (key, value) VALUES ($1, '1') ON CONFLICT (key) DO UPDATE SET value = '1'`,
          [migrationKey],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

type Queryable = Pick<pg.Pool, 'query'>;

interface Row {
  key: string;
  value: Buffer;
  etag: string;
  expires_at: Date | null;
}

function toState(row: Row): StoredState {
  return {
    value: row.value.toString('utf8'),
    etag: row.etag,
    ...(row.expires_at ? { metadata: { ttlExpireTime: ttlExpireTime(row.expires_at) } } : {}),
  };
}

/** libpq `key=value` connection strings (what Dapr documents) or postgres:// URLs. */
export function poolConfig(connectionString: string): pg.PoolConfig {
  if (/^postgres(ql)?:\/\//.test(connectionString)) return { connectionString };
  const fields = new Map<string, string>();
  for (const match of connectionString.matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/g)) {
    const [, name = '', raw = ''] = match;
    fields.set(name, raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  const sslmode = fields.get('sslmode') ?? 'prefer';
  return {
    ...(fields.has('host') ? { host: fields.get('host') } : {}),
    ...(fields.has('port') ? { port: Number(fields.get('port')) } : {}),
    ...(fields.has('user') ? { user: fields.get('user') } : {}),
    ...(fields.has('password') ? { password: fields.get('password') } : {}),
    ...(fields.has('database') || fields.has('dbname') ? { database: fields.get('database') ?? fields.get('dbname') } : {}),
    ...(sslmode === 'disable' || sslmode === 'prefer' || sslmode === 'allow'
      ? {}
      : { ssl: { rejectUnauthorized: sslmode.startsWith('verify') } }),
  };
}

/** Go durations as the component reads them: "1h", "30m", "1h30m", "10s", "500ms"; "0" disables. */
export function parseDuration(text: string): number | undefined {
  if (/^-?\d+$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  for (const [, amount = '0', unit = 's'] of parts) total += Number(amount) * (units[unit] ?? 0);
  return total;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
