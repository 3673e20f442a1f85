import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { migrationKey } from '../../scripts/chat-migration/checkpoint.js';
import { type MigrationSettings, type MigrationStores, migrate } from '../../scripts/chat-migration/migrate.js';
import type { LegacyHistory } from '../../scripts/chat-migration/source.js';
import { historyKey } from '../../shared/chat/chat-history-service.js';
import type { StateStore } from '../../shared/state/port.js';
import { useStores } from '../support/stores.js';

/**
 * How a run's passes follow each other (resume, restart, re-scan), on the migration module itself
 * against the stand-in's stores; test/integration/chat-migration.test.ts drives the CLI on PostgreSQL.
 */
const stores = useStores();
const targets = (): MigrationStores => ({ target: stores.hot, checkpoints: stores.durable });

/** One fixed time, so the same users generated again are the same histories. */
const at = new Date(Date.now() - 60_000);

function histories(prefix: string, count: number, content = 'hello'): LegacyHistory[] {
  return Array.from({ length: count }, (_, i) => ({
    userId: `${prefix}-${i}`,
    messages: [{ id: `${prefix}-${i}-1`, role: 'user', content, createdAt: at }],
  }));
}

/** A source in user order that records where each read started, and can fail after `failAfter` users (a kill). */
function source(users: LegacyHistory[], failAfter = Number.POSITIVE_INFINITY) {
  const startedAfter: Array<string | undefined> = [];
  const read = async function* (afterUserId: string | undefined) {
    startedAfter.push(afterUserId);
    let served = 0;
    for (const history of users) {
      if (afterUserId !== undefined && Buffer.compare(Buffer.from(history.userId), Buffer.from(afterUserId)) <= 0) continue;
      if (served === failAfter) throw new Error('killed');
      served += 1;
      yield history;
    }
  };
  return { read, startedAfter };
}

function settings(overrides: Partial<MigrationSettings> = {}): MigrationSettings {
  return {
    runId: `run-${randomUUID().slice(0, 8)}`,
    source: 'legacy(id, user_id, role, content, created_at)',
    oid: 1000,
    maxMessages: 50,
    ttlSeconds: 86_400,
    dryRun: false,
    batchUsers: 2,
    now: () => Date.now(),
    ...overrides,
  };
}

describe('migration passes', () => {
  it('resumes an unfinished pass on the same table after its last checkpointed user', async () => {
    const users = histories(`u${randomUUID().slice(0, 6)}`, 5);
    const run = settings();
    await expect(migrate(source(users, 3).read, targets(), run)).rejects.toThrow('killed');
    const again = source(users);
    const result = await migrate(again.read, targets(), run);
    expect(again.startedAfter).toEqual([users[1]?.userId]);
    expect(result).toMatchObject({ pass: 1, resumedAfter: users[1]?.userId, counts: { migrated: 3 }, passCounts: { migrated: 5 } });
  });

  it('starts an unfinished pass again from the first user when the table was re-created', async () => {
    const users = histories(`u${randomUUID().slice(0, 6)}`, 5);
    const run = settings();
    await expect(migrate(source(users, 3).read, targets(), run)).rejects.toThrow('killed');
    const again = source(users);
    const result = await migrate(again.read, targets(), { ...run, oid: 2000 });
    expect(again.startedAfter).toEqual([undefined]);
    expect(result.restartedBecause).toMatch(/re-created \(OID 1000 → 2000\) since pass 1 stopped after user/);
    expect(result).toMatchObject({
      pass: 2,
      counts: { migrated: 3, alreadyMigrated: 2 },
      earlier: { passes: 1, counts: { migrated: 2 } },
      source: { oid: 2000, usersScanned: 5, change: 'recreated' },
    });
  });

  it('counts a write that landed before its checkpoint as migrated when the pass resumes', async () => {
    const users = histories(`u${randomUUID().slice(0, 6)}`, 2);
    const run = settings();
    // The checkpoint save after the (only) batch fails, as if the run were killed right after writing.
    const failingCheckpoints: StateStore = Object.create(stores.durable, {
      save: { value: () => Promise.reject(new Error('killed')) },
    });
    await expect(migrate(source(users).read, { target: stores.hot, checkpoints: failingCheckpoints }, run)).rejects.toThrow('killed');
    expect(await stores.hot.get(historyKey(users[0]?.userId ?? ''))).not.toBeNull();
    const result = await migrate(source(users).read, targets(), run);
    expect(result).toMatchObject({ pass: 1, counts: { migrated: 2, alreadyMigrated: 0 }, nothingToDo: false });
  });

  it('re-scans after a completed pass: new users are migrated, unchanged ones recognised, changed ones kept and reported', async () => {
    const prefix = `u${randomUUID().slice(0, 6)}`;
    const run = settings();
    const first = histories(prefix, 3);
    await migrate(source(first).read, targets(), run);
    const changed = histories(prefix, 1, 'rewritten');
    const grown = [...(changed as LegacyHistory[]), ...first.slice(1), ...histories(`${prefix}x`, 2)];
    const again = source(grown);
    const result = await migrate(again.read, targets(), run);
    expect(again.startedAfter).toEqual([undefined]);
    expect(result).toMatchObject({
      pass: 2,
      counts: { migrated: 2, alreadyMigrated: 2, skippedExisting: 1 },
      earlier: { passes: 1, counts: { migrated: 3 } },
      source: { change: 'changed', usersScanned: 5 },
    });
    const kept = (await stores.hot.get(historyKey(`${prefix}-0`)))?.value as { messages: Array<{ content: string }> };
    expect(kept.messages[0]?.content).toBe('hello');
  });

  it('reports what a dry run after a completed pass would migrate, and writes nothing', async () => {
    const prefix = `u${randomUUID().slice(0, 6)}`;
    const run = settings();
    await migrate(source(histories(prefix, 2)).read, targets(), run);
    const checkpoint = await stores.durable.get(migrationKey(run.runId));
    const more = [...histories(prefix, 2), ...histories(`${prefix}x`, 1)];
    const result = await migrate(source(more).read, targets(), { ...run, dryRun: true });
    expect(result).toMatchObject({ dryRun: true, pass: 2, counts: { migrated: 1, alreadyMigrated: 2 } });
    expect(await stores.hot.get(historyKey(`${prefix}x-0`))).toBeNull();
    expect((await stores.durable.get(migrationKey(run.runId)))?.value).toEqual(checkpoint?.value);
  });

  it('reads a checkpoint and histories written before passes existed as pass 1', async () => {
    const prefix = `u${randomUUID().slice(0, 6)}`;
    const run = settings();
    const message = { id: `${prefix}-0-1`, role: 'user', content: 'hello', timestamp: at.toISOString() };
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    await stores.hot.save(
      historyKey(`${prefix}-0`),
      { v: 1, messages: [message], expiresAt, migration: { runId: run.runId, at: expiresAt } },
      { mode: 'create-only' },
    );
    const counts = { migrated: 1, skippedLive: 0, skippedExpired: 0, failed: 0 };
    const old = {
      v: 1,
      runId: run.runId,
      source: run.source,
      lastUserId: `${prefix}-0`,
      counts,
      startedAt: expiresAt,
      updatedAt: expiresAt,
      completedAt: expiresAt,
    };
    await stores.durable.save(migrationKey(run.runId), old, { mode: 'overwrite' });
    const result = await migrate(source(histories(prefix, 2)).read, targets(), run);
    expect(result).toMatchObject({
      pass: 2,
      counts: { migrated: 1, alreadyMigrated: 1 },
      earlier: { passes: 1, counts: { migrated: 1 } },
      source: { change: 'unknown' },
    });
  });
});
