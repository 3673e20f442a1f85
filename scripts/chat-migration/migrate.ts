import { createHash } from 'node:crypto';
import { z } from 'zod';
import { fitWindow, HISTORY_GRACE_SECONDS, historyKey } from '../../shared/chat/chat-history-service.js';
import { type ChatMessage, chatMessageSchema, historyDocumentSchema } from '../../shared/chat/chat-schemas.js';
import { AlreadyExists } from '../../shared/errors.js';
import { ID_PATTERN, keyBuilder } from '../../shared/state/keys.js';
import type { StateStore } from '../../shared/state/port.js';
import type { LegacyHistory } from './source.js';

export const migrationKey = keyBuilder('migration', 'chat');

export interface Counts {
  migrated: number;
  skippedLive: number;
  skippedExpired: number;
  failed: number;
}

export const ZERO: Counts = { migrated: 0, skippedLive: 0, skippedExpired: 0, failed: 0 };

const countsSchema = z.object({
  migrated: z.number(),
  skippedLive: z.number(),
  skippedExpired: z.number(),
  failed: z.number(),
});

const checkpointSchema = z.object({
  v: z.literal(1),
  runId: z.string(),
  /** The table and columns the run reads: a run id cannot be resumed against another source. */
  source: z.string(),
  lastUserId: z.string().optional(),
  counts: countsSchema,
  startedAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().optional(),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export interface MigrationSettings {
  runId: string;
  /** Names the table and columns read (see `sourceFingerprint`). */
  source: string;
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
  | { userId: string; kind: 'migrated' | 'skippedLive' | 'skippedExpired' }
  | { userId: string; kind: 'failed'; reason: string };

export interface BatchReport {
  users: number;
  counts: Counts;
  lastUserId: string;
  failures: Array<{ userId: string; reason: string }>;
}

export interface MigrationResult {
  runId: string;
  counts: Counts;
  /** The run had completed before: nothing was read or written. */
  alreadyCompleted: boolean;
  resumedAfter?: string;
  dryRun: boolean;
}

/** What a migrated history holds: the chat envelope plus a marker naming the run that wrote it. */
type MigratedDocument = { v: 1; messages: ChatMessage[]; expiresAt: string; migration: { runId: string; at: string } };

const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

/** The parts of a run that read the checkpoint before any history is read. */
export async function loadCheckpoint(stores: MigrationStores, runId: string): Promise<Checkpoint | null> {
  const entry = await stores.checkpoints.get(migrationKey(runId));
  if (entry === null) return null;
  const parsed = checkpointSchema.safeParse(entry.value);
  if (!parsed.success) throw new Error(`checkpoint ${runId} does not parse: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Copies each user's newest messages into `chat:history:{userId}` in the chat envelope, create-only
 * (a history the live app already wrote is never overwritten), with the TTL a live history would
 * have left. Progress is checkpointed after every batch, so a killed run resumes after the last
 * finished batch, and re-writing a user this run already wrote counts as migrated, not as a clash.
 */
export async function migrate(
  histories: (afterUserId: string | undefined) => AsyncIterable<LegacyHistory>,
  stores: MigrationStores,
  settings: MigrationSettings,
  onBatch: (report: BatchReport) => void = () => {},
): Promise<MigrationResult> {
  const checkpoint = await loadCheckpoint(stores, settings.runId);
  if (checkpoint && checkpoint.source !== settings.source) {
    throw new Error(`run ${settings.runId} was started on ${checkpoint.source}, not ${settings.source}: use another --run-id`);
  }
  const base = { runId: settings.runId, dryRun: settings.dryRun };
  if (checkpoint?.completedAt) return { ...base, counts: checkpoint.counts, alreadyCompleted: true };

  const startedAt = checkpoint?.startedAt ?? new Date(settings.now()).toISOString();
  const counts = { ...(checkpoint?.counts ?? ZERO) };
  let lastUserId = checkpoint?.lastUserId;
  let batch: LegacyHistory[] = [];
  let batchBytes = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const outcomes = await migrateBatch(batch, stores.target, settings);
    const batchCounts = tally(outcomes);
    for (const key of Object.keys(counts) as Array<keyof Counts>) counts[key] += batchCounts[key];
    lastUserId = batch.at(-1)?.userId;
    if (!settings.dryRun) await saveCheckpoint(stores, settings, { startedAt, counts, lastUserId });
    onBatch({
      users: batch.length,
      counts: { ...counts },
      lastUserId: lastUserId ?? '',
      failures: outcomes.flatMap((o) => (o.kind === 'failed' ? [{ userId: o.userId, reason: o.reason }] : [])),
    });
    batch = [];
    batchBytes = 0;
  };

  for await (const history of histories(lastUserId)) {
    const size = Buffer.byteLength(JSON.stringify(history.messages)) + 512;
    if (batch.length > 0 && (batch.length >= settings.batchUsers || batchBytes + size > MAX_REQUEST_BYTES)) await flush();
    batch.push(history);
    batchBytes += size;
  }
  await flush();
  if (!settings.dryRun) {
    await saveCheckpoint(stores, settings, { startedAt, counts, lastUserId, completedAt: new Date(settings.now()).toISOString() });
  }
  return { ...base, counts, alreadyCompleted: false, ...(checkpoint?.lastUserId ? { resumedAfter: checkpoint.lastUserId } : {}) };
}

async function migrateBatch(batch: LegacyHistory[], target: StateStore, settings: MigrationSettings): Promise<Outcome[]> {
  const outcomes = new Map<string, Outcome>();
  const writes: Array<{ userId: string; key: string; value: MigratedDocument; options: { mode: 'create-only'; ttlSeconds: number } }> = [];
  for (const history of batch) {
    const prepared = prepareHistory(history, settings);
    if (prepared.kind === 'write') {
      writes.push({
        userId: history.userId,
        key: historyKey(history.userId),
        value: prepared.document,
        options: { mode: 'create-only', ttlSeconds: prepared.ttlSeconds },
      });
    } else {
      outcomes.set(history.userId, prepared.outcome);
    }
  }
  if (writes.length > 0) {
    if (!settings.dryRun) {
      try {
        await target.saveBulk(writes);
      } catch (error) {
        // Some of the batch may be written and some not: the read-back below tells which.
        if (!(error instanceof AlreadyExists)) throw error;
      }
    }
    const stored = await target.getBulk(writes.map((w) => w.key));
    for (const [i, { userId }] of writes.entries()) outcomes.set(userId, classify(userId, stored[i]?.entry?.value, settings));
  }
  return batch.map((history) => outcomes.get(history.userId) ?? { userId: history.userId, kind: 'failed', reason: 'not written' });
}

/** After the write: ours (this run's marker), the live app's, or missing. A dry run writes nothing. */
function classify(userId: string, stored: unknown, settings: MigrationSettings): Outcome {
  if (stored === undefined) {
    return settings.dryRun ? { userId, kind: 'migrated' } : { userId, kind: 'failed', reason: 'the write did not land' };
  }
  const marker = z.object({ migration: z.object({ runId: z.string() }) }).safeParse(stored);
  if (marker.success && marker.data.migration.runId === settings.runId && !settings.dryRun) return { userId, kind: 'migrated' };
  return { userId, kind: 'skippedLive' };
}

type Prepared = { kind: 'write'; document: MigratedDocument; ttlSeconds: number } | { kind: 'outcome'; outcome: Outcome };

/** Validates and converts one legacy history; pure, so a resumed run prepares exactly the same. */
export function prepareHistory(history: LegacyHistory, settings: Pick<MigrationSettings, 'runId' | 'maxMessages' | 'ttlSeconds' | 'now'>): Prepared {
  const { userId } = history;
  const fail = (reason: string): Prepared => ({ kind: 'outcome', outcome: { userId, kind: 'failed', reason } });
  if (!ID_PATTERN.test(userId)) return fail('user id is not a valid id');
  const newest = history.messages.at(-1);
  if (!newest) return fail('no messages');
  const badTime = history.messages.find((m) => Number.isNaN(m.createdAt.getTime()));
  if (badTime) return fail(`message ${badTime.id}: created_at is not a valid time`);
  const ttlSeconds = settings.ttlSeconds - Math.floor((settings.now() - newest.createdAt.getTime()) / 1000);
  if (ttlSeconds <= 0) return { kind: 'outcome', outcome: { userId, kind: 'skippedExpired' } };

  const seen = new Set<string>();
  const messages: ChatMessage[] = [];
  for (const legacy of history.messages.slice(-settings.maxMessages)) {
    const message = chatMessageSchema.safeParse({
      id: uniqueId(messageId(legacy.id), seen),
      role: legacy.role.toLowerCase(),
      content: legacy.content,
      timestamp: legacy.createdAt.toISOString(),
    });
    if (!message.success) return fail(`message ${legacy.id}: ${message.error.issues[0]?.message ?? 'invalid'}`);
    if (message.data.content.length === 0 || message.data.content.length > 16_000) {
      return fail(`message ${legacy.id}: content must be 1–16000 characters`);
    }
    messages.push(message.data);
  }
  const document: MigratedDocument = {
    v: 1,
    messages: fitWindow(messages, settings.maxMessages),
    expiresAt: new Date(newest.createdAt.getTime() + settings.ttlSeconds * 1000).toISOString(),
    migration: { runId: settings.runId, at: new Date(settings.now()).toISOString() },
  };
  // The store keeps the key a little longer than the history lives, as the chat service does.
  return { kind: 'write', document, ttlSeconds: ttlSeconds + HISTORY_GRACE_SECONDS };
}

/** Legacy ids that our id rules reject get a stable derived id (so re-runs derive the same one). */
function messageId(legacyId: string): string {
  return ID_PATTERN.test(legacyId) ? legacyId : `legacy-${createHash('sha256').update(legacyId).digest('hex').slice(0, 32)}`;
}

function uniqueId(id: string, seen: Set<string>): string {
  let candidate = id;
  for (let n = 2; seen.has(candidate); n += 1) candidate = `${id.slice(0, 120)}-dup${n}`;
  seen.add(candidate);
  return candidate;
}

function tally(outcomes: Outcome[]): Counts {
  const counts = { ...ZERO };
  for (const outcome of outcomes) counts[outcome.kind] += 1;
  return counts;
}

async function saveCheckpoint(
  stores: MigrationStores,
  settings: MigrationSettings,
  progress: { startedAt: string; counts: Counts; lastUserId: string | undefined; completedAt?: string },
): Promise<void> {
  const checkpoint: Checkpoint = {
    v: 1,
    runId: settings.runId,
    source: settings.source,
    ...(progress.lastUserId === undefined ? {} : { lastUserId: progress.lastUserId }),
    counts: progress.counts,
    startedAt: progress.startedAt,
    updatedAt: new Date(settings.now()).toISOString(),
    ...(progress.completedAt ? { completedAt: progress.completedAt } : {}),
  };
  // One writer per run id: the checkpoint is simply overwritten.
  await stores.checkpoints.save(migrationKey(settings.runId), checkpoint, { mode: 'overwrite' });
}

export interface VerifyReport {
  users: number;
  matching: number;
  expired: number;
  live: number;
  mismatches: Array<{ userId: string; reason: string }>;
}

/**
 * Compares every user's expected history (from the source, prepared as the migration does) with
 * what the target holds: message count and a checksum of ids, roles, contents and timestamps.
 * Histories the live app owns are reported, not compared.
 */
export async function verify(
  histories: AsyncIterable<LegacyHistory>,
  target: StateStore,
  settings: Pick<MigrationSettings, 'runId' | 'maxMessages' | 'ttlSeconds' | 'now' | 'batchUsers'>,
): Promise<VerifyReport> {
  const report: VerifyReport = { users: 0, matching: 0, expired: 0, live: 0, mismatches: [] };
  let batch: LegacyHistory[] = [];
  const check = async () => {
    const stored = await target.getBulk(batch.map((h) => historyKey(h.userId)));
    for (const [i, history] of batch.entries()) {
      report.users += 1;
      const prepared = prepareHistory(history, settings);
      const value = stored[i]?.entry?.value;
      if (prepared.kind === 'outcome') {
        if (prepared.outcome.kind === 'skippedExpired' && value === undefined) report.expired += 1;
        else if (prepared.outcome.kind === 'failed') report.mismatches.push({ userId: history.userId, reason: prepared.outcome.reason });
        else report.live += 1;
        continue;
      }
      const migrated = z.object({ migration: z.object({ runId: z.string() }), expiresAt: z.string() }).safeParse(value);
      if (value !== undefined && !migrated.success) {
        report.live += 1;
        continue;
      }
      if (migrated.success && Date.parse(migrated.data.expiresAt) <= settings.now()) {
        report.expired += 1; // expired since, and kept by the store only for its grace period
        continue;
      }
      const document = historyDocumentSchema.safeParse(value);
      if (!document.success) {
        report.mismatches.push({ userId: history.userId, reason: value === undefined ? 'missing in the target' : 'does not parse' });
        continue;
      }
      const expected = prepared.document.messages;
      if (document.data.messages.length !== expected.length) {
        report.mismatches.push({ userId: history.userId, reason: `count ${document.data.messages.length} ≠ ${expected.length}` });
      } else if (checksum(document.data.messages) !== checksum(expected)) {
        report.mismatches.push({ userId: history.userId, reason: 'checksum differs' });
      } else {
        report.matching += 1;
      }
    }
    batch = [];
  };
  for await (const history of histories) {
    batch.push(history);
    if (batch.length >= settings.batchUsers) await check();
  }
  if (batch.length > 0) await check();
  return report;
}

function checksum(messages: ChatMessage[]): string {
  const hash = createHash('sha256');
  for (const m of messages) hash.update(JSON.stringify([m.id, m.role, m.content, m.timestamp]));
  return hash.digest('hex');
}
