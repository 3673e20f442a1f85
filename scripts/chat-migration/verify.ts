import { z } from 'zod';
import { historyKey } from '../../shared/chat/chat-history-service.js';
import { historyDocumentSchema } from '../../shared/chat/chat-schemas.js';
import type { StateStore } from '../../shared/state/port.js';
import type { MigrationSettings } from './migrate.js';
import { checksum, prepareHistory } from './prepare.js';
import type { LegacyHistory } from './source.js';

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
  settings: Pick<MigrationSettings, 'maxMessages' | 'ttlSeconds' | 'now' | 'batchUsers'>,
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
      const migrated = z
        .object({ migration: z.object({ runId: z.string(), pass: z.number().default(1) }), expiresAt: z.string() })
        .safeParse(value);
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
      // A history migrated by another run or pass before the source changed keeps its messages.
      const by = migrated.success ? ` (stored by run ${migrated.data.migration.runId}, pass ${migrated.data.migration.pass})` : '';
      if (document.data.messages.length !== expected.length) {
        report.mismatches.push({ userId: history.userId, reason: `count ${document.data.messages.length} ≠ ${expected.length}${by}` });
      } else if (checksum(document.data.messages) !== checksum(expected)) {
        report.mismatches.push({ userId: history.userId, reason: `checksum differs${by}` });
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
