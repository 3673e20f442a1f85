import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateComponents, type Sidecar, startSidecar } from '../../dev/sidecar/server.js';
import { call } from '../support/http.js';
import { missing } from '../support/services.js';
import { componentsDir, projectRoot, startStack, type Stack } from '../support/stack.js';

/**
 * The migration CLI end to end: a generated legacy table in PostgreSQL (`test`), the stand-in on
 * the real Redis and PostgreSQL, and the CLI as its own process. Each scenario writes under its
 * own Dapr app id, so key prefixes keep them apart on the shared servers.
 */
const SOURCE = 'postgres://postgres@127.0.0.1:5432/test';
const USERS = 520;
const EXPIRED_EVERY = 10; // every 10th user's newest message is two days old

interface Run {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  stderr: string;
}

function startCli(
  port: number,
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; lines: Array<Record<string, unknown>>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate-chat.ts', '--source', SOURCE, ...args], {
    cwd: projectRoot,
    env: { ...process.env, DAPR_HOST: '127.0.0.1', DAPR_HTTP_PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    buffered += String(chunk);
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part));
  });
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  return { child, lines, stderr: () => stderr };
}

async function runCli(port: number, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { child, lines, stderr } = startCli(port, args, env);
  const [code] = await once(child, 'exit');
  return { code, lines, stderr: stderr() };
}

const summaryOf = (run: Run) => run.lines.find((l) => l.event === 'summary');
const verifyOf = (run: Run) => run.lines.find((l) => l.event === 'verify');

describe.skipIf(missing('redis', 'postgres'))('npm run migrate:chat', () => {
  const table = `legacy_chat_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const userPrefix = `m${randomUUID().slice(0, 6)}`;
  let db: pg.Client;
  let redis: Redis;
  let stack: Stack;
  const sidecars: Sidecar[] = [];

  const realSidecar = async (appId: string) => {
    const sidecar = await startSidecar({ appId, components: await loadStateComponents(componentsDir), backends: 'real' });
    sidecars.push(sidecar);
    return sidecar;
  };
  const storedHistory = async (appId: string, userId: string) => {
    const data = await redis.hget(`${appId}||chat:history:${userId}`, 'data');
    return data === null ? null : JSON.parse(data);
  };
  const userIds = () => Array.from({ length: USERS }, (_, i) => `${userPrefix}-${String(i).padStart(4, '0')}`);

  beforeAll(async () => {
    db = new pg.Client({ connectionString: SOURCE });
    await db.connect();
    redis = new Redis({ host: '127.0.0.1', port: 6379 });
    await db.query(
      `CREATE TABLE ${table} (id text PRIMARY KEY, user_id text NOT NULL, role text NOT NULL, content text NOT NULL, created_at timestamptz NOT NULL)`,
    );
    // User i has 20 + (i mod 45) messages (some over the 50 kept), alternating user/assistant.
    await db.query(
      `INSERT INTO ${table} (id, user_id, role, content, created_at)
       SELECT u || '-' || m, u, CASE WHEN m % 2 = 0 THEN 'user' ELSE 'assistant' END, 'message ' || m || ' of ' || u,
              CASE WHEN i % ${EXPIRED_EVERY} = 0 THEN now() - interval '2 days' ELSE now() - interval '1 hour' END
                + (m || ' seconds')::interval - (i || ' minutes')::interval
       FROM generate_series(0, ${USERS - 1}) AS i,
            LATERAL (SELECT $1 || '-' || lpad(i::text, 4, '0') AS u) AS names,
            LATERAL generate_series(1, 20 + i % 45) AS m`,
      [userPrefix],
    );
    stack = await startStack({}, { backends: 'real', appId: `mig-a-${userPrefix}` });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await Promise.all(sidecars.map((s) => s.close()));
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
    redis.disconnect();
  });

  it('generated a legacy table of at least 20,000 messages for 500+ users', async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS messages, count(DISTINCT user_id)::int AS users FROM ${table}`);
    expect(rows[0].messages).toBeGreaterThanOrEqual(20_000);
    expect(rows[0].users).toBeGreaterThanOrEqual(500);
  });

  it('migrates every live conversation, skips expired ones, and verifies clean', async () => {
    const run = await runCli(stack.sidecar.port, ['--table', table, '--run-id', 'full-run', '--verify']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const expired = USERS / EXPIRED_EVERY;
    expect(summaryOf(run)).toMatchObject({
      migrated: USERS - expired,
      alreadyMigrated: 0,
      skippedLive: 0,
      skippedExpired: expired,
      failed: 0,
      pass: 1,
      nothingToDo: false,
      earlier: { passes: 0, migrated: 0 },
      source: { table, change: 'first-pass', usersScanned: USERS },
    });
    expect(verifyOf(run)).toMatchObject({ users: USERS, matching: USERS - expired, expired, live: 0, mismatched: 0 });

    const appId = `mig-a-${userPrefix}`;
    const busy = `${userPrefix}-0044`; // 64 messages: only the newest 50 are kept, in order
    const history = await storedHistory(appId, busy);
    expect(history.messages).toHaveLength(50);
    expect(history.messages[0]).toMatchObject({ id: `${busy}-15`, role: 'assistant', content: `message 15 of ${busy}` });
    expect(history.messages.at(-1)).toMatchObject({ id: `${busy}-64`, role: 'user' });
    const ttl = await redis.ttl(`${appId}||chat:history:${busy}`);
    expect(ttl).toBeGreaterThan(86_400 - 2 * 3600);
    expect(ttl).toBeLessThan(86_400 - 3600);
    expect(await storedHistory(appId, `${userPrefix}-0010`)).toBeNull(); // expired
  }, 120_000);

  it('serves migrated histories through the chat history function', async () => {
    const user = `${userPrefix}-0044`;
    const page = await call('GET', `${stack.api}/users/${user}/chat/messages?limit=50`, { user });
    expect(page.status).toBe(200);
    expect(page.body.messages.map((m: { id: string }) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => `${user}-${i + 15}`));
    const appended = await call('POST', `${stack.api}/users/${user}/chat/messages`, {
      user,
      body: { role: 'user', content: 'after migration' },
    });
    expect(appended.status).toBe(201);
    expect(appended.body.count).toBe(50);
  });

  it('re-scans after a completed run, changes nothing on an unchanged source and says there was nothing to do', async () => {
    const appId = `mig-a-${userPrefix}`;
    const untouched = `${userPrefix}-0001`;
    const versionBefore = await redis.hget(`${appId}||chat:history:${untouched}`, 'version');
    const run = await runCli(stack.sidecar.port, ['--table', table, '--run-id', 'full-run']);
    expect(run.code).toBe(0);
    const expired = USERS / EXPIRED_EVERY;
    // This run's counts, not the first run's: user 0044 was appended to through the app above.
    expect(summaryOf(run)).toMatchObject({
      pass: 2,
      nothingToDo: true,
      migrated: 0,
      alreadyMigrated: USERS - expired - 1,
      skippedLive: 1,
      skippedExpired: expired,
      earlier: { passes: 1, migrated: USERS - expired },
      source: { change: 'unchanged', usersScanned: USERS },
    });
    expect(summaryOf(run)?.msg).toMatch(/^Nothing to do: no new histories to migrate, 520 users scanned/);
    expect(await redis.hget(`${appId}||chat:history:${untouched}`, 'version')).toBe(versionBefore);
    expect(versionBefore).toBe('1');
  }, 60_000);

  it('resumes a killed run to the same final state as an uninterrupted one', async () => {
    const appId = `mig-b-${userPrefix}`;
    const sidecar = await realSidecar(appId);
    const { child, lines } = startCli(sidecar.port, ['--table', table, '--run-id', 'killed-run', '--batch', '10']);
    while (!lines.some((l) => l.event === 'batch')) {
      if (child.exitCode !== null) throw new Error('the run finished before it could be killed');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGKILL');
    await once(child, 'exit');
    const checkpoint = await fetch(`${sidecar.url}/v1.0/state/statestore-durable/migration:chat:killed-run`);
    const progress = (await checkpoint.json()) as { completedAt?: string; lastUserId?: string; counts: unknown };
    expect(progress.completedAt).toBeUndefined();
    expect(progress.lastUserId).toBeDefined();

    const resumed = await runCli(sidecar.port, ['--table', table, '--run-id', 'killed-run', '--batch', '10', '--verify']);
    expect(resumed.code).toBe(0);
    const before = progress.counts as { migrated: number; skippedExpired: number };
    expect(before.migrated).toBeGreaterThan(0);
    // This run's counts at the top level, the whole pass (with the killed run's part) in passCounts.
    expect(summaryOf(resumed)).toMatchObject({
      resumedAfter: progress.lastUserId,
      pass: 1,
      failed: 0,
      migrated: USERS - USERS / EXPIRED_EVERY - before.migrated,
      passCounts: { migrated: USERS - USERS / EXPIRED_EVERY, skippedExpired: USERS / EXPIRED_EVERY, alreadyMigrated: 0 },
    });
    expect(verifyOf(resumed)).toMatchObject({ mismatched: 0 });
    for (const user of userIds()) {
      const [interrupted, uninterrupted] = await Promise.all([storedHistory(appId, user), storedHistory(`mig-a-${userPrefix}`, user)]);
      if (user === `${userPrefix}-0044`) continue; // appended to through the app above
      expect(interrupted?.messages ?? null).toEqual(uninterrupted?.messages ?? null);
    }
  }, 120_000);

  it('writes nothing on a dry run, and reports what it would do', async () => {
    const appId = `mig-c-${userPrefix}`;
    const sidecar = await realSidecar(appId);
    const run = await runCli(sidecar.port, ['--table', table, '--run-id', 'dry', '--dry-run']);
    expect(run.code).toBe(0);
    expect(summaryOf(run)).toMatchObject({ dryRun: true, migrated: USERS - USERS / EXPIRED_EVERY, skippedExpired: USERS / EXPIRED_EVERY });
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await redis.scan(cursor, 'MATCH', `${appId}||*`, 'COUNT', 10_000);
      keys.push(...page);
      cursor = next;
    } while (cursor !== '0');
    expect(keys).toEqual([]);
    const checkpoint = await fetch(`${sidecar.url}/v1.0/state/statestore-durable/migration:chat:dry`);
    expect(checkpoint.status).toBe(204);
  }, 60_000);

  it('never overwrites a history the live app already wrote', async () => {
    const appId = `mig-d-${userPrefix}`;
    const sidecar = await realSidecar(appId);
    const live = `${userPrefix}-0003`;
    const liveHistory = {
      v: 1,
      messages: [{ id: 'live-1', role: 'user', content: 'written by the app', timestamp: new Date().toISOString() }],
    };
    const saved = await fetch(`${sidecar.url}/v1.0/state/statestore`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: `chat:history:${live}`, value: liveHistory, options: { concurrency: 'first-write' } }]),
    });
    expect(saved.status).toBe(204);
    const run = await runCli(sidecar.port, ['--table', table, '--run-id', 'with-live']);
    expect(run.code).toBe(0);
    expect(summaryOf(run)).toMatchObject({ skippedLive: 1, migrated: USERS - USERS / EXPIRED_EVERY - 1 });
    expect(await storedHistory(appId, live)).toEqual(liveHistory);
  }, 60_000);

  describe('re-runs with the default run id after the source changed', () => {
    // A small table of its own, under one name throughout: the default run id comes from source and table.
    const reloaded = `${table}_reloaded`;
    const base = Date.now() - 3600_000;
    const appId = `mig-a-${userPrefix}`;
    const oldUsers = Array.from({ length: 20 }, (_, i) => `${userPrefix}-old-${i}`);
    const newUsers = Array.from({ length: 15 }, (_, i) => `${userPrefix}-new-${i}`);
    const addedUsers = Array.from({ length: 10 }, (_, i) => `${userPrefix}-added-${i}`);
    /** Three messages per user, at fixed times, so the same rows loaded again are the same history. */
    const load = async (users: string[], content = 'first load', first = 0) => {
      const rows = users.flatMap((user, u) =>
        [1, 2, 3].map((m) => [
          `${user}-${m}`,
          user,
          m % 2 ? 'user' : 'assistant',
          `${content} ${m}`,
          new Date(base + (first + u) * 1000 + m * 10),
        ]),
      );
      await db.query(
        `INSERT INTO ${reloaded} (id, user_id, role, content, created_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])`,
        [0, 1, 2, 3, 4].map((column) => rows.map((row) => row[column])),
      );
    };
    const recreate = async () => {
      await db.query(`DROP TABLE IF EXISTS ${reloaded}`);
      await db.query(
        `CREATE TABLE ${reloaded} (id text PRIMARY KEY, user_id text NOT NULL, role text NOT NULL, content text NOT NULL, created_at timestamptz NOT NULL)`,
      );
    };
    const version = (user: string) => redis.hget(`${appId}||chat:history:${user}`, 'version');
    const served = async (user: string) => {
      const page = await call('GET', `${stack.api}/users/${user}/chat/messages?limit=50`, { user });
      expect(page.status).toBe(200);
      return page.body.messages.map((m: { content: string }) => m.content);
    };
    const skippedUsers = (run: Run) => run.lines.filter((l) => l.event === 'user-skipped-existing').map((l) => l.userId);
    let oldVersions: Array<string | null> = [];
    let oldHistories: unknown[] = [];

    afterAll(async () => {
      await db.query(`DROP TABLE IF EXISTS ${reloaded}`);
    });

    it('migrates a table, then after it was dropped and re-created with other users, migrates the new users and leaves the old ones untouched', async () => {
      await recreate();
      await load(oldUsers);
      const first = await runCli(stack.sidecar.port, ['--table', reloaded]);
      expect(first.code).toBe(0);
      expect(summaryOf(first)).toMatchObject({ pass: 1, migrated: 20, failed: 0 });
      oldVersions = await Promise.all(oldUsers.map(version));
      oldHistories = await Promise.all(oldUsers.map((user) => storedHistory(appId, user)));
      expect(oldVersions.every((v) => v === '1')).toBe(true);

      // The refreshed copy: new users, old-0 with other messages, old-1 with exactly the same rows.
      await recreate();
      await load(newUsers);
      await load([oldUsers[0] as string], 'reloaded');
      await load([oldUsers[1] as string], 'first load', 1);
      const second = await runCli(stack.sidecar.port, ['--table', reloaded]);
      expect(second.stderr).toBe('');
      expect(second.code).toBe(0);
      expect(summaryOf(second)).toMatchObject({
        pass: 2,
        nothingToDo: false,
        migrated: 15,
        alreadyMigrated: 1,
        skippedExisting: 1,
        failed: 0,
        earlier: { passes: 1, migrated: 20 },
        source: { table: reloaded, change: 'recreated', usersScanned: 17 },
      });
      expect(skippedUsers(second)).toEqual([oldUsers[0]]);

      for (const user of newUsers) expect(await served(user)).toEqual(['first load 1', 'first load 2', 'first load 3']);
      expect(await Promise.all(oldUsers.map(version))).toEqual(oldVersions);
      expect(await Promise.all(oldUsers.map((user) => storedHistory(appId, user)))).toEqual(oldHistories);
      expect(await served(oldUsers[0] as string)).toEqual(['first load 1', 'first load 2', 'first load 3']);
    }, 120_000);

    it('migrates rows added to the same table after a completed run on the next run', async () => {
      await load(addedUsers);
      await db.query(`INSERT INTO ${reloaded} VALUES ($1, $2, 'user', 'a later message', $3)`, [
        `${newUsers[0]}-4`,
        newUsers[0],
        new Date(base + 60_000),
      ]);
      const newVersions = await Promise.all(newUsers.map(version));
      const third = await runCli(stack.sidecar.port, ['--table', reloaded]);
      expect(third.code).toBe(0);
      expect(summaryOf(third)).toMatchObject({
        pass: 3,
        migrated: 10,
        alreadyMigrated: 15,
        skippedExisting: 2,
        failed: 0,
        earlier: { passes: 2, migrated: 35 },
        source: { change: 'changed', usersScanned: 27 },
      });
      expect(skippedUsers(third).sort()).toEqual([newUsers[0], oldUsers[0]].sort());
      for (const user of addedUsers) expect(await served(user)).toEqual(['first load 1', 'first load 2', 'first load 3']);
      expect(await Promise.all(newUsers.map(version))).toEqual(newVersions);
      expect(await Promise.all(oldUsers.map(version))).toEqual(oldVersions);

      const fourth = await runCli(stack.sidecar.port, ['--table', reloaded]);
      expect(fourth.code).toBe(0);
      expect(summaryOf(fourth)).toMatchObject({
        pass: 4,
        nothingToDo: true,
        migrated: 0,
        alreadyMigrated: 25,
        source: { change: 'unchanged' },
      });
    }, 120_000);
  });
});

describe.skipIf(missing('redis', 'postgres'))('npm run migrate:chat with rows it cannot take', () => {
  it('migrates the rest, counts the user as failed and exits non-zero', async () => {
    const table = `legacy_bad_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const db = new pg.Client({ connectionString: SOURCE });
    await db.connect();
    const sidecar = await startSidecar({
      appId: `mig-e-${randomUUID().slice(0, 8)}`,
      components: await loadStateComponents(componentsDir),
      backends: 'real',
    });
    try {
      await db.query(`CREATE TABLE ${table} (id integer, user_id text, role text, content text, created_at timestamptz)`);
      await db.query(
        `INSERT INTO ${table} VALUES (1, 'good-user', 'user', 'hi', now()), (2, 'bad-user', 'robot', 'beep', now()), (3, 'bad:id', 'user', 'x', now())`,
      );
      const run = await runCli(sidecar.port, ['--table', table, '--run-id', 'bad-rows']);
      expect(run.code).toBe(1);
      expect(summaryOf(run)).toMatchObject({ migrated: 1, failed: 2 });
      const failures = run.lines.filter((l) => l.event === 'user-failed').map((l) => l.userId);
      expect(failures.sort()).toEqual(['bad-user', 'bad:id']);

      const otherSource = await runCli(sidecar.port, ['--table', table, '--user-column', 'id', '--run-id', 'bad-rows']);
      expect(otherSource.code).toBe(2);
      expect(otherSource.stderr).toMatch(/was started on .*not .*use another --run-id/);
      const badTable = await runCli(sidecar.port, ['--table', 'x; drop table y', '--run-id', 'never']);
      expect(badTable.code).toBe(2);
      expect(badTable.stderr).toMatch(/--table must be table or schema\.table/);
    } finally {
      await sidecar.close();
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      await db.end();
    }
  }, 60_000);
});

describe.skipIf(missing('redis', 'postgres'))('npm run migrate:chat on a timestamp column without time zone', () => {
  it('reads the times as UTC whatever the machine’s time zone', async () => {
    const table = `legacy_naive_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const appId = `mig-f-${randomUUID().slice(0, 8)}`;
    const db = new pg.Client({ connectionString: SOURCE });
    await db.connect();
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const sidecar = await startSidecar({ appId, components: await loadStateComponents(componentsDir), backends: 'real' });
    try {
      await db.query(`CREATE TABLE ${table} (id text, user_id text, role text, content text, created_at timestamp without time zone)`);
      await db.query(`INSERT INTO ${table} VALUES ('1', 'naive-user', 'user', 'hi', (now() AT TIME ZONE 'UTC') - interval '23 hours')`);
      const run = await runCli(sidecar.port, ['--table', table, '--run-id', 'naive'], { TZ: 'Asia/Tokyo' });
      expect(run.code).toBe(0);
      expect(summaryOf(run)).toMatchObject({ migrated: 1, skippedExpired: 0 });
      const ttl = await redis.ttl(`${appId}||chat:history:naive-user`);
      expect(ttl).toBeGreaterThan(3600 + 300 - 120);
      expect(ttl).toBeLessThanOrEqual(3600 + 300);
    } finally {
      await sidecar.close();
      redis.disconnect();
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      await db.end();
    }
  }, 60_000);
});
