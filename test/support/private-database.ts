import { randomBytes } from 'node:crypto';
import pg from 'pg';

const SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;

/**
 * A database of our own on the shared PostgreSQL server (127.0.0.1:5432, trust auth), created by
 * `create()` and dropped with every client it handed out by `drop()`, so a test can lock or fill it
 * without touching the databases other suites use.
 */
export class PrivateDatabase {
  readonly name: string;
  #clients: pg.Client[] = [];

  /** `prefix` names the suite in the database name (letters, digits and `_`). */
  constructor(prefix = 'test') {
    this.name = `${prefix}_${randomBytes(6).toString('hex')}`;
  }

  /** The key/value form, as Dapr's `state.postgresql` component takes it. */
  get connectionString(): string {
    return `host=${SERVER.host} user=${SERVER.user} port=${SERVER.port} database=${this.name} sslmode=disable`;
  }

  /** The URL form, as `npm run migrate:chat -- --source` takes it. */
  get url(): string {
    return `postgres://${SERVER.user}@${SERVER.host}:${SERVER.port}/${this.name}`;
  }

  async create(): Promise<void> {
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${this.name}`));
  }

  /** A connected client on this database; `drop()` ends it if the test did not. */
  async connect(): Promise<pg.Client> {
    const client = new pg.Client({ ...SERVER, database: this.name });
    await client.connect();
    this.#clients.push(client);
    return client;
  }

  /**
   * Takes a lock on the state table in an open transaction on a client of its own: with `ACCESS
   * EXCLUSIVE` every read and write of the store waits behind it, with `EXCLUSIVE` reads go on and
   * writes wait. Returns the release (rollback).
   */
  async lockStateTable(mode: 'ACCESS EXCLUSIVE' | 'EXCLUSIVE' = 'ACCESS EXCLUSIVE'): Promise<() => Promise<void>> {
    const client = await this.connect();
    await client.query('BEGIN');
    await client.query(`LOCK TABLE state IN ${mode} MODE`);
    return async () => {
      await client.query('ROLLBACK');
      await this.#end(client);
    };
  }

  async drop(): Promise<void> {
    await Promise.all(this.#clients.map((client) => this.#end(client)));
    await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }

  async #end(client: pg.Client): Promise<void> {
    this.#clients = this.#clients.filter((c) => c !== client);
    await client.end().catch(() => undefined);
  }
}

async function withAdmin<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ ...SERVER, database: 'postgres' });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
