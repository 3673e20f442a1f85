import pg from 'pg';

/** Where the legacy messages live; every name is configurable for tables that differ. */
export interface LegacyTable {
  table: string;
  columns: { id: string; userId: string; role: string; content: string; createdAt: string };
}

export const DEFAULT_TABLE: LegacyTable = {
  table: 'chat_messages',
  columns: { id: 'id', userId: 'user_id', role: 'role', content: 'content', createdAt: 'created_at' },
};

export interface LegacyMessage {
  id: string;
  role: string;
  content: string;
  createdAt: Date;
}

/** One user's newest messages, oldest first. */
export interface LegacyHistory {
  userId: string;
  messages: LegacyMessage[];
}

/** A stable description of what a run reads, stored with its checkpoint. */
export function sourceFingerprint({ table, columns: c }: LegacyTable): string {
  return `${table}(${c.id}, ${c.userId}, ${c.role}, ${c.content}, ${c.createdAt})`;
}

/**
 * Connection settings for the legacy database. A `timestamp without time zone` column is read as
 * UTC (node-pg would read it in this machine's local time zone and shift every message).
 */
export function sourceClientConfig(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === TIMESTAMP_WITHOUT_TIME_ZONE
          ? (value: string) => new Date(`${value.replace(' ', 'T')}Z`)
          : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    },
  };
}

const TIMESTAMP_WITHOUT_TIME_ZONE = 1114;

/** Quotes `name` or `schema.name` as SQL identifiers. */
function quoteIdentifier(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

function newestPerUserQuery({ table, columns: c }: LegacyTable): string {
  const q = quoteIdentifier;
  // The database keeps only each user's newest messages and orders them; users come in a stable
  // (byte-wise) order so a resumed run can continue after the last user it finished.
  return `
    SELECT uid, id, role, content, created_at FROM (
      SELECT ${q(c.userId)}::text AS uid, ${q(c.id)}::text AS id, ${q(c.role)}::text AS role,
             ${q(c.content)}::text AS content, ${q(c.createdAt)} AS created_at,
             row_number() OVER (PARTITION BY ${q(c.userId)} ORDER BY ${q(c.createdAt)} DESC, ${q(c.id)} DESC) AS rn
      FROM ${q(table)}
      WHERE $1::text IS NULL OR ${q(c.userId)}::text COLLATE "C" > $1::text COLLATE "C"
    ) newest
    WHERE rn <= $2
    ORDER BY uid COLLATE "C", created_at, id`;
}

/**
 * The table's OID: it identifies this table, so a table dropped and re-created under the same name
 * (a refreshed copy) reads as another source. Fails plainly when the table does not exist.
 */
export async function tableOid(client: pg.Client, source: LegacyTable): Promise<number> {
  const { rows } = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::int8 AS oid', [quoteIdentifier(source.table)]);
  const oid = rows[0]?.oid;
  if (oid === null || oid === undefined) throw new Error(`table ${source.table} does not exist in the source database`);
  return Number(oid);
}

export async function countUsers(client: pg.Client, source: LegacyTable, afterUserId: string | undefined): Promise<number> {
  const c = source.columns;
  const { rows } = await client.query<{ users: string }>(
    `SELECT count(DISTINCT ${quoteIdentifier(c.userId)}) AS users FROM ${quoteIdentifier(source.table)}
     WHERE $1::text IS NULL OR ${quoteIdentifier(c.userId)}::text COLLATE "C" > $1::text COLLATE "C"`,
    [afterUserId ?? null],
  );
  return Number(rows[0]?.users ?? 0);
}

/**
 * Streams users' histories through a server-side cursor, `fetchRows` rows at a time, so memory
 * stays flat whatever the table's size: only the current user's messages are held.
 */
export async function* readHistories(
  client: pg.Client,
  source: LegacyTable,
  options: { maxMessages: number; afterUserId?: string; fetchRows?: number },
): AsyncGenerator<LegacyHistory> {
  const fetchRows = options.fetchRows ?? 1000;
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let finished = false;
  try {
    await client.query({
      text: `DECLARE legacy_chat NO SCROLL CURSOR FOR ${newestPerUserQuery(source)}`,
      values: [options.afterUserId ?? null, options.maxMessages],
    });
    let current: LegacyHistory | undefined;
    for (;;) {
      const { rows } = await client.query<{ uid: string; id: string; role: string; content: string; created_at: Date }>(
        `FETCH ${fetchRows} FROM legacy_chat`,
      );
      for (const row of rows) {
        if (current && current.userId !== row.uid) {
          yield current;
          current = undefined;
        }
        current ??= { userId: row.uid, messages: [] };
        current.messages.push({ id: row.id, role: row.role, content: row.content, createdAt: row.created_at });
      }
      if (rows.length < fetchRows) break;
    }
    if (current) yield current;
    await client.query('COMMIT');
    finished = true;
  } finally {
    // Also when the consumer stops early or fails: close the cursor's transaction.
    if (!finished) await client.query('ROLLBACK').catch(() => undefined);
  }
}
