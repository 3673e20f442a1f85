import { z } from 'zod';
import { keyBuilder } from '../../shared/state/keys.js';
import type { StateStore } from '../../shared/state/port.js';

export const migrationKey = keyBuilder('migration', 'chat');

/** What happened to each user a pass read. */
export interface Counts {
  /** Written by this pass. */
  migrated: number;
  /** The target already holds this user's history as an earlier pass or run migrated it, unchanged. */
  alreadyMigrated: number;
  /** Migrated earlier, but the source now holds other messages for the user: not merged (create-only). */
  skippedExisting: number;
  /** The live app owns the history (it wrote or appended to it): never overwritten. */
  skippedLive: number;
  skippedExpired: number;
  failed: number;
}

export const ZERO: Counts = { migrated: 0, alreadyMigrated: 0, skippedExisting: 0, skippedLive: 0, skippedExpired: 0, failed: 0 };

export function addCounts(a: Counts, b: Counts): Counts {
  const sum = { ...a };
  for (const key of Object.keys(sum) as Array<keyof Counts>) sum[key] += b[key];
  return sum;
}

const countsSchema = z.object({
  migrated: z.number(),
  alreadyMigrated: z.number().default(0),
  skippedExisting: z.number().default(0),
  skippedLive: z.number(),
  skippedExpired: z.number(),
  failed: z.number(),
});

/**
 * What a pass has read so far: the table's OID (a dropped and re-created table gets a new one)
 * and a running hash of every user id, message id and time scanned, chained batch by batch so a
 * resumed pass continues it.
 */
const scanSchema = z.object({ oid: z.number().optional(), users: z.number(), fingerprint: z.string() });
export type Scan = z.infer<typeof scanSchema>;

const checkpointV2Schema = z.object({
  v: z.literal(2),
  runId: z.string(),
  /** The table and columns the run reads: a run id cannot be resumed against another source. */
  source: z.string(),
  /** 1 for a run's first pass over the table; each re-run after a completed pass starts the next. */
  pass: z.number().int().min(1),
  lastUserId: z.string().optional(),
  /** This pass so far. */
  counts: countsSchema,
  scan: scanSchema,
  startedAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().optional(),
  /** Totals of the run's earlier passes, and what the latest of them scanned. */
  earlier: z.object({ passes: z.number(), counts: countsSchema, lastScan: scanSchema.optional() }),
});
export type Checkpoint = z.infer<typeof checkpointV2Schema>;

/** Checkpoints written before passes existed: one pass, source identity unknown. */
const checkpointV1Schema = z.object({
  v: z.literal(1),
  runId: z.string(),
  source: z.string(),
  lastUserId: z.string().optional(),
  counts: countsSchema,
  startedAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().optional(),
});

const anyCheckpointSchema = z.discriminatedUnion('v', [checkpointV1Schema, checkpointV2Schema]);

export async function loadCheckpoint(store: StateStore, runId: string): Promise<Checkpoint | null> {
  const entry = await store.get(migrationKey(runId));
  if (entry === null) return null;
  const parsed = anyCheckpointSchema.safeParse(entry.value);
  if (!parsed.success) throw new Error(`checkpoint ${runId} does not parse: ${parsed.error.message}`);
  const checkpoint = parsed.data;
  if (checkpoint.v === 2) return checkpoint;
  return { ...checkpoint, v: 2, pass: 1, scan: { users: 0, fingerprint: '' }, earlier: { passes: 0, counts: { ...ZERO } } };
}

export async function saveCheckpoint(store: StateStore, checkpoint: Checkpoint): Promise<void> {
  // One writer per run id: the checkpoint is simply overwritten.
  await store.save(migrationKey(checkpoint.runId), checkpoint, { mode: 'overwrite' });
}
