import { describe, expect, it } from 'vitest';
import { ZERO } from '../../scripts/chat-migration/checkpoint.js';
import type { MigrationResult } from '../../scripts/chat-migration/migrate.js';
import { jsonSummary, terminalSummary } from '../../scripts/chat-migration/report.js';

const rerun: MigrationResult = {
  runId: 'chat-1234',
  dryRun: false,
  pass: 3,
  counts: { ...ZERO, alreadyMigrated: 40, skippedExpired: 2 },
  passCounts: { ...ZERO, alreadyMigrated: 40, skippedExpired: 2 },
  earlier: { passes: 2, counts: { ...ZERO, migrated: 270, skippedExpired: 4 } },
  source: { oid: 16384, usersScanned: 42, change: 'unchanged' },
  nothingToDo: true,
};

describe('the migration summary', () => {
  it("states 'nothing to do' and this run's counts on a terminal, with earlier passes' totals apart", () => {
    const text = terminalSummary(rerun, 'chat_messages');
    expect(text.split('\n')[0]).toBe(
      'Nothing to do: no new histories to migrate, 42 users scanned in chat_messages (a new pass: the source is unchanged since the previous pass)',
    );
    expect(text).toMatch(/^ {2}migrated: +0$/m);
    expect(text).toMatch(/^ {2}already migrated: +40$/m);
    expect(text).toMatch(/^Earlier passes \(2\) in all: migrated 270, /m);
  });

  it('puts the same counts and sentence at the top level of the JSON log line', () => {
    const line = jsonSummary(rerun, 'chat_messages');
    expect(line).toMatchObject({
      event: 'summary',
      nothingToDo: true,
      migrated: 0,
      alreadyMigrated: 40,
      earlier: { passes: 2, migrated: 270 },
    });
    expect(line.headline).toBe(terminalSummary(rerun, 'chat_messages').split('\n')[0]);
  });

  it('says how many users were skipped because the source moved on, and that their new messages are not merged', () => {
    const changed = {
      ...rerun,
      nothingToDo: false,
      counts: { ...ZERO, migrated: 5, skippedExisting: 2 },
      source: { ...rerun.source, change: 'recreated' as const },
    };
    const text = terminalSummary(changed, 'chat_messages');
    expect(text.split('\n')[0]).toBe(
      'Migrated 5 histories in pass 3 of run chat-1234, 42 users scanned in chat_messages (a new pass: the table was re-created since the previous pass)',
    );
    expect(text).toMatch(/2 users were migrated before .* not merged\.$/m);
  });

  it('shows the whole pass next to this run when the run resumed an interrupted one', () => {
    const resumed = {
      ...rerun,
      pass: 1,
      nothingToDo: false,
      resumedAfter: 'u-0099',
      counts: { ...ZERO, migrated: 10 },
      passCounts: { ...ZERO, migrated: 110 },
    };
    const text = terminalSummary(resumed, 't');
    expect(text).toMatch(/\(resumed after user "u-0099"\)$/m);
    expect(text).toMatch(/^Pass 1 in all \(with the interrupted run\): migrated 110, /m);
  });
});
