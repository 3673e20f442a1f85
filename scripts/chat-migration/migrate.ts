import { createHash } from 'node:crypto';
import { z } from 'zod';
import { historyKey } from '../../shared/chat/chat-history-service.js';
import { chatMessageSchema } from '../../shared/chat/chat-schemas.js';
import { AlreadyExists } from '../../shared/errors.js';
import type { StateStore } from '../../shared/state/port.js';
import { addCounts, type Checkpoint, type Counts, loadCheckpoint, type Scan, saveCheckpoint, ZERO } from './checkpoint.js';
import { checksum, type PreparedDocument, prepareHistory } from './prepare.js';
import type { LegacyHistory } from './source.js';

export { type Counts, loadCheckpoint, migrationKey, ZERO } from './checkpoint.js';

export interface MigrationSettings {
  runId: string;
  /** Names the table and columns read (see `sourceFingerprint`). */
  source: string;
  /** The table's OID now: a table dropped and re-created under the same name gets another. */
  oid: number;
  maxMessages: number;
  /** A history lives this long after its newest message (CHAT_HISTORY_TTL_SECONDS). */
  ttlSeconds: number;
  dryRun: boolean;
  /** Users per bulk save (also capped by request size). */
  batchUsers: number;
  now: () => number;
}

export interface MigrationStores {
  /** Where histories go (`statestore`). */
  target: StateStore;
  /** Where the checkpoint lives (`statestore-durable`). */
  checkpoints: StateStore;
}

export type Outcome =
  | { userId: string; kind: 'migrated' | 'alreadyMigrated' | 'skippedLive' | 'skippedExpired' }
  | { userId: string; kind: 'failed' | 'skippedExisting'; reason: string };

export interface BatchReport {
  users: number;
  /** This pass so far. */
  counts: Counts;
  lastUserId: string;
  failures: Array<{ userId: string; reason: string }>;
  skipped: Array<{ userId: string; reason: string }>;
}

/**
 * How the source compares with what the run's previous pass scanned: `recreated` when the table's
 * OID changed, `unknown` when the previous pass predates fingerprints.
 */
export type SourceChange = 'first-pass' | 'unchanged' | 'changed' | 'recreated' | 'unknown';

export interface MigrationResult {
  runId: string;
  dryRun: boolean;
  /** Which pass over the source this was (1 = the run's first). */
  pass: number;
  /** What this invocation did. */
  counts: Counts;
  /** The whole pass: with `resumedAfter`, also what the interrupted invocation(s) did. */
  passCounts: Counts;
  /** Totals of the run's earlier passes (0 passes on a first run). */
  earlier: { passes: number; counts: Counts };
  resumedAfter?: string;
  /** Why an unfinished pass was started again from the first user instead of resumed. */
  restartedBecause?: string;
  source: { oid: number; usersScanned: number; change: SourceChange };
  /** This invocation found nothing to write and nothing failed. */
  nothingToDo: boolean;
}

/** What a migrated history holds: the chat envelope plus a marker naming the run and pass that wrote it. */
type MigratedDocument = PreparedDocument & { migration: { runId: string; pass: number; at: string } };

const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

/** Where a pass starts: from the first user, or after the last user an interrupted invocation finished. */
export interface PassStart {
  pass: number;
  startedAt: string;
  counts: Counts;
  scan: Scan;
  lastUserId?: string;
  earlier: Checkpoint['earlier'];
  restartedBecause?: string;
}

/**
 * A run id names the operator's intent (this table into this target). Its checkpoint decides:
 * none → pass 1; an unfinished pass on the same table (same OID) → resume after its last user; a
 * completed pass, or an unfinished one whose table was re-created → a new pass over every user.
 */
export function planPass(checkpoint: Checkpoint | null, settings: MigrationSettings): PassStart {
  const fresh = {
    startedAt: new Date(settings.now()).toISOString(),
    counts: { ...ZERO },
    scan: { oid: settings.oid, users: 0, fingerprint: '' },
  };
  if (checkpoint === null) return { ...fresh, pass: 1, earlier: { passes: 0, counts: { ...ZERO } } };
  const closed = {
    ...fresh,
    pass: checkpoint.pass + 1,
    earlier: {
      passes: checkpoint.earlier.passes + 1,
      counts: addCounts(checkpoint.earlier.counts, checkpoint.counts),
      lastScan: checkpoint.scan,
    },
  };
  if (checkpoint.completedAt) return closed;
  if (checkpoint.scan.oid !== undefined && checkpoint.scan.oid !== settings.oid) {
    const where = checkpoint.lastUserId === undefined ? '' : ` after user ${JSON.stringify(checkpoint.lastUserId)}`;
    return {
      ...closed,
      restartedBecause: `the table was re-created (OID ${checkpoint.scan.oid} → ${settings.oid}) since pass ${checkpoint.pass} stopped${where}`,
    };
  }
  return {
    pass: checkpoint.pass,
    startedAt: checkpoint.startedAt,
    counts: { ...checkpoint.counts },
    scan: { ...checkpoint.scan, oid: settings.oid },
    ...(checkpoint.lastUserId === undefined ? {} : { lastUserId: checkpoint.lastUserId }),
    earlier: checkpoint.earlier,
  };
}

function sourceChange(start: PassStart, scan: Scan): SourceChange {
  const last = start.earlier.lastScan;
  if (start.restartedBecause || (last?.oid !== undefined && last.oid !== scan.oid)) return 'recreated';
  if (last === undefined) return 'first-pass';
  if (last.oid === undefined) return 'unknown';
  return last.fingerprint === scan.fingerprint && last.users === scan.users ? 'unchanged' : 'changed';
}

/**
 * Copies each user's newest messages into `chat:history:{userId}` in the chat envelope, create-only
 * (a history already in the target is never overwritten), with the TTL a live history would have
 * left. Progress is checkpointed after every batch, so a killed run resumes after the last finished
 * batch. A run whose pass completed scans the whole source again on its next invocation: histories
 * migrated before are recognised (`alreadyMigrated`), new users are written.
 */
export async function migrate(
  histories: (afterUserId: string | undefined) => AsyncIterable<LegacyHistory>,
  stores: MigrationStores,
  settings: MigrationSettings,
  onBatch: (report: BatchReport) => void = () => {},
): Promise<MigrationResult> {
  const checkpoint = await loadCheckpoint(stores.checkpoints, settings.runId);
  if (checkpoint && checkpoint.source !== settings.source) {
    throw new Error(`run ${settings.runId} was started on ${checkpoint.source}, not ${settings.source}: use another --run-id`);
  }
  const start = planPass(checkpoint, settings);
  const passCounts = { ...start.counts };
  let counts = { ...ZERO };
  let scan = { ...start.scan };
  let lastUserId = start.lastUserId;
  let batch: LegacyHistory[] = [];
  let batchBytes = 0;
  const progress = (completedAt?: string): Checkpoint => ({
    v: 2,
    runId: settings.runId,
    source: settings.source,
    pass: start.pass,
    ...(lastUserId === undefined ? {} : { lastUserId }),
    counts: passCounts,
    scan,
    startedAt: start.startedAt,
    updatedAt: new Date(settings.now()).toISOString(),
    ...(completedAt ? { completedAt } : {}),
    earlier: start.earlier,
  });

  const flush = async () => {
    if (batch.length === 0) return;
    const outcomes = await migrateBatch(batch, stores.target, settings, start.pass);
    const batchCounts = tally(outcomes);
    counts = addCounts(counts, batchCounts);
    Object.assign(passCounts, addCounts(passCounts, batchCounts));
    scan = { oid: settings.oid, users: scan.users + batch.length, fingerprint: chainFingerprint(scan.fingerprint, batch) };
    lastUserId = batch.at(-1)?.userId;
    if (!settings.dryRun) await saveCheckpoint(stores.checkpoints, progress());
    onBatch({
      users: batch.length,
      counts: { ...passCounts },
      lastUserId: lastUserId ?? '',
      failures: outcomes.flatMap((o) => (o.kind === 'failed' ? [{ userId: o.userId, reason: o.reason }] : [])),
      skipped: outcomes.flatMap((o) => (o.kind === 'skippedExisting' ? [{ userId: o.userId, reason: o.reason }] : [])),
    });
    batch = [];
    batchBytes = 0;
  };

  for await (const history of histories(start.lastUserId)) {
    const size = Buffer.byteLength(JSON.stringify(history.messages)) + 512;
    if (batch.length > 0 && (batch.length >= settings.batchUsers || batchBytes + size > MAX_REQUEST_BYTES)) await flush();
    batch.push(history);
    batchBytes += size;
  }
  await flush();
  if (!settings.dryRun) await saveCheckpoint(stores.checkpoints, progress(new Date(settings.now()).toISOString()));
  return {
    runId: settings.runId,
    dryRun: settings.dryRun,
    pass: start.pass,
    counts,
    passCounts,
    earlier: { passes: start.earlier.passes, counts: start.earlier.counts },
    ...(start.lastUserId === undefined ? {} : { resumedAfter: start.lastUserId }),
    ...(start.restartedBecause === undefined ? {} : { restartedBecause: start.restartedBecause }),
    source: { oid: settings.oid, usersScanned: scan.users, change: sourceChange(start, scan) },
    nothingToDo: counts.migrated === 0 && counts.failed === 0,
  };
}

/** The previous fingerprint hashed with every user id, message id and time in the batch. */
function chainFingerprint(previous: string, batch: LegacyHistory[]): string {
  const hash = createHash('sha256').update(previous);
  for (const h of batch) hash.update(JSON.stringify([h.userId, h.messages.map((m) => [m.id, m.createdAt.getTime()])]));
  return hash.digest('hex');
}

type Write = { userId: string; key: string; value: MigratedDocument; options: { mode: 'create-only'; ttlSeconds: number } };

/** Reads the batch's keys first, writes only the absent ones (create-only), then reads those back. */
async function migrateBatch(batch: LegacyHistory[], target: StateStore, settings: MigrationSettings, pass: number): Promise<Outcome[]> {
  const outcomes = new Map<string, Outcome>();
  const candidates: Write[] = [];
  const marker = { runId: settings.runId, pass, at: new Date(settings.now()).toISOString() };
  for (const history of batch) {
    const prepared = prepareHistory(history, settings);
    if (prepared.kind === 'write') {
      const options = { mode: 'create-only' as const, ttlSeconds: prepared.ttlSeconds };
      const value = { ...prepared.document, migration: marker };
      candidates.push({ userId: history.userId, key: historyKey(history.userId), value, options });
    } else {
      outcomes.set(history.userId, prepared.outcome);
    }
  }
  const writes: Write[] = [];
  if (candidates.length > 0) {
    const stored = await target.getBulk(candidates.map((c) => c.key));
    for (const [i, candidate] of candidates.entries()) {
      const value = stored[i]?.entry?.value;
      if (value === undefined) writes.push(candidate);
      else outcomes.set(candidate.userId, classify(candidate, value, marker));
    }
  }
  if (writes.length > 0 && settings.dryRun) {
    for (const { userId } of writes) outcomes.set(userId, { userId, kind: 'migrated' });
  } else if (writes.length > 0) {
    try {
      await target.saveBulk(writes);
    } catch (error) {
      // Some of the batch may be written and some not (the live app may have written one since
      // the read): the read-back below tells which.
      if (!(error instanceof AlreadyExists)) throw error;
    }
    const stored = await target.getBulk(writes.map((w) => w.key));
    for (const [i, write] of writes.entries()) {
      const value = stored[i]?.entry?.value;
      outcomes.set(
        write.userId,
        value === undefined ? { userId: write.userId, kind: 'failed', reason: 'the write did not land' } : classify(write, value, marker),
      );
    }
  }
  return batch.map((history) => outcomes.get(history.userId) ?? { userId: history.userId, kind: 'failed', reason: 'not written' });
}

const markedSchema = z.object({
  messages: z.array(chatMessageSchema),
  // Markers written before passes existed carry no pass: they came from a run's first pass.
  migration: z.object({ runId: z.string(), pass: z.number().default(1) }),
});

/**
 * What the target holds for a user: this pass's write (also one an interrupted invocation of the
 * same pass made), an earlier migration of the same messages, an earlier migration the source has
 * moved on from, or a history the live app wrote (the chat service keeps no marker).
 */
function classify(write: Write, stored: unknown, marker: { runId: string; pass: number }): Outcome {
  const { userId } = write;
  const marked = markedSchema.safeParse(stored);
  if (!marked.success) return { userId, kind: 'skippedLive' };
  const by = marked.data.migration;
  if (by.runId === marker.runId && by.pass === marker.pass) return { userId, kind: 'migrated' };
  if (checksum(marked.data.messages) === checksum(write.value.messages)) return { userId, kind: 'alreadyMigrated' };
  return {
    userId,
    kind: 'skippedExisting',
    reason: `migrated before (run ${by.runId}, pass ${by.pass}) and the source now holds other messages for this user: the stored history is kept, not merged`,
  };
}

function tally(outcomes: Outcome[]): Counts {
  const counts = { ...ZERO };
  for (const outcome of outcomes) counts[outcome.kind] += 1;
  return counts;
}
