import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendFactory, memoryBackends, realBackends } from '../../dev/sidecar/server.js';
import { taskListDocumentSchema } from '../../shared/tasks/task-schemas.js';
import { call, type CallResult } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { PrivateDatabase } from '../support/private-database.js';
import { missing } from '../support/services.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * A write whose outcome is unknown must never be answered "503, retry" when it landed: while the
 * task table of a private database is locked (EXCLUSIVE: reads go on, writes wait), creates time
 * out on their write, which lands once the lock is released. Afterwards every stored task must
 * have been answered 201, or 503 with `"outcome": "unknown"`; and no 201 may be missing.
 */
describe.skipIf(missing('postgres'))('task creates during a PostgreSQL table lock (private database)', () => {
  const database = new PrivateDatabase('tasks_fault');
  let db: pg.Client;
  let stack: Stack;

  beforeAll(async () => {
    await database.create();
    const privateDatabase: BackendFactory = (component, context) =>
      component.type === 'state.postgresql'
        ? realBackends({ ...component, metadata: { ...component.metadata, connectionString: database.connectionString } }, context)
        : memoryBackends(component, context);
    stack = await startStack({ DAPR_TIMEOUT_MS: '1000', STATE_BREAKER_THRESHOLD: '1000' }, { createBackend: privateDatabase });
    db = await database.connect();
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await database.drop();
  });

  const create = (user: string, title: string) => call('POST', `${stack.api}/users/${user}/tasks`, { user, body: { title } });
  const storedTitles = async (user: string): Promise<string[]> => {
    const { rows } = await db.query<{ value: Buffer }>('SELECT value FROM state WHERE key = $1', [`state-api||tasks:user:${user}`]);
    const row = rows[0];
    return row === undefined ? [] : taskListDocumentSchema.parse(JSON.parse(row.value.toString('utf8'))).tasks.map((t) => t.title);
  };

  it('never answers a plain 503 for a create that landed once the lock was released', async () => {
    expect((await create(uniqueId('warm'), 'table exists')).status).toBe(201);
    const users = Array.from({ length: 4 }, () => uniqueId('u'));

    const release = await database.lockStateTable('EXCLUSIVE');
    let answers: CallResult[];
    try {
      answers = await Promise.all(users.map((user) => create(user, 'during the lock')));
    } finally {
      await release();
    }
    // A barrier: this lock is granted only after every write queued behind the first one has run.
    await (await database.lockStateTable('EXCLUSIVE'))();

    expect(answers.some((answer) => answer.status !== 201)).toBe(true); // the lock did hold writes up
    for (const [i, user] of users.entries()) {
      const answer = answers[i];
      const landed = (await storedTitles(user)).includes('during the lock');
      const said = answer?.status === 503 ? `503 outcome ${answer.body.error.outcome ?? 'not applied'}` : String(answer?.status);
      if (landed) expect(['201', '503 outcome unknown'], `a stored task was answered ${said}`).toContain(said);
      else expect(said, 'a 201 for a task that is not stored').not.toBe('201');
    }
    expect((await create(users[0] ?? 'x', 'after the lock')).status).toBe(201);
  }, 60_000);
});
