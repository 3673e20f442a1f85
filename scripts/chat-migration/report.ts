import type { Counts } from './checkpoint.js';
import type { MigrationResult } from './migrate.js';

/** One sentence saying what this invocation did, the same on a terminal and in the JSON log. */
export function headline(result: MigrationResult, table: string): string {
  const { counts } = result;
  const scanned = `${result.source.usersScanned} users scanned in ${table}`;
  const why = result.restartedBecause
    ? ` (started again from the first user: ${result.restartedBecause})`
    : result.resumedAfter !== undefined
      ? ` (resumed after user ${JSON.stringify(result.resumedAfter)})`
      : result.pass > 1
        ? ` (a new pass: ${changeText[result.source.change]})`
        : '';
  if (result.nothingToDo) {
    return `${result.dryRun ? 'Dry run: ' : ''}Nothing to do: no new histories to migrate, ${scanned}${why}`;
  }
  const verb = result.dryRun ? 'Dry run (nothing written): would migrate' : 'Migrated';
  return `${verb} ${counts.migrated} ${counts.migrated === 1 ? 'history' : 'histories'} in pass ${result.pass} of run ${result.runId}, ${scanned}${why}`;
}

const changeText: Record<MigrationResult['source']['change'], string> = {
  'first-pass': 'first pass',
  unchanged: 'the source is unchanged since the previous pass',
  changed: 'the source changed since the previous pass',
  recreated: 'the table was re-created since the previous pass',
  unknown: 'the previous pass recorded no source fingerprint',
};

const labels: Record<keyof Counts, string> = {
  migrated: 'migrated',
  alreadyMigrated: 'already migrated',
  skippedExisting: 'skipped-existing',
  skippedLive: 'skipped-live',
  skippedExpired: 'skipped-expired',
  failed: 'failed',
};

function countLines(counts: Counts): string[] {
  return (Object.keys(labels) as Array<keyof Counts>).map((key) => `  ${`${labels[key]}:`.padEnd(18)} ${counts[key]}`);
}

function inline(counts: Counts): string {
  return (Object.keys(labels) as Array<keyof Counts>).map((key) => `${labels[key]} ${counts[key]}`).join(', ');
}

/** The terminal's summary: this invocation's counts first, then the pass's and earlier passes' totals. */
export function terminalSummary(result: MigrationResult, table: string): string {
  const lines = [headline(result, table), 'This run:', ...countLines(result.counts)];
  if (result.resumedAfter !== undefined) lines.push(`Pass ${result.pass} in all (with the interrupted run): ${inline(result.passCounts)}`);
  if (result.earlier.passes > 0) lines.push(`Earlier passes (${result.earlier.passes}) in all: ${inline(result.earlier.counts)}`);
  if (result.counts.skippedExisting > 0) {
    lines.push(
      `${result.counts.skippedExisting === 1 ? '1 user was' : `${result.counts.skippedExisting} users were`} migrated before and the source now holds other messages for them: their stored history is kept (create-only), the new messages are not merged.`,
    );
  }
  return lines.join('\n');
}

/** The JSON log's summary line: this invocation's counts at the top level, as the terminal shows them. */
export function jsonSummary(result: MigrationResult, table: string): Record<string, unknown> {
  const { counts, passCounts, earlier, source, ...rest } = result;
  return {
    event: 'summary',
    ...rest,
    ...counts,
    headline: headline(result, table),
    passCounts,
    earlier: { passes: earlier.passes, ...earlier.counts },
    source: { table, ...source },
  };
}
