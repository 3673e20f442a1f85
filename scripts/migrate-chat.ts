import { createHash } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { SingleBar } from 'cli-progress';
import pg from 'pg';
import { z } from 'zod';
import { type Config, loadConfig } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { connectDaprSidecar, createDaprStateStore } from '../shared/state/dapr-state-store.js';
import { ID_PATTERN } from '../shared/state/keys.js';
import { type BatchReport, loadCheckpoint, type MigrationStores, migrate, planPass } from './chat-migration/migrate.js';
import { headline, jsonSummary, terminalSummary } from './chat-migration/report.js';
import {
  countUsers,
  DEFAULT_TABLE,
  type LegacyTable,
  readHistories,
  sourceClientConfig,
  sourceFingerprint,
  tableOid,
} from './chat-migration/source.js';
import { verify } from './chat-migration/verify.js';

/**
 * node dist/scripts/migrate-chat.js --source <postgres url> [--table chat_messages] [--dry-run] [--batch 500] [--verify]
 * (`npm run migrate:chat -- …` once built; `npm run migrate:chat:dev -- …` from the sources)
 *
 * Copies every live conversation from a legacy PostgreSQL table into the chat history state
 * store through the Dapr sidecar (DAPR_HOST/DAPR_HTTP_PORT, as the app). Only production
 * dependencies are imported, so it runs in the deployed image. See README "Migrating chat
 * history from PostgreSQL".
 */
const program = new Command('migrate:chat')
  .description('Migrate chat history from a PostgreSQL table into the Dapr state store')
  .requiredOption('--source <url>', 'PostgreSQL connection URL of the legacy database')
  .option('--table <name>', 'legacy table (schema.table allowed)', DEFAULT_TABLE.table)
  .option('--id-column <name>', 'message id column', DEFAULT_TABLE.columns.id)
  .option('--user-column <name>', 'user id column', DEFAULT_TABLE.columns.userId)
  .option('--role-column <name>', 'role column (user|assistant|system)', DEFAULT_TABLE.columns.role)
  .option('--content-column <name>', 'message text column', DEFAULT_TABLE.columns.content)
  .option('--created-column <name>', 'timestamp column', DEFAULT_TABLE.columns.createdAt)
  .option('--batch <users>', 'users per bulk save', positiveInteger, 500)
  .option(
    '--run-id <id>',
    'checkpoint name (default: derived from source and table); the same id resumes a killed run, or re-scans the source for new histories after a completed one',
  )
  .option('--dry-run', 'write nothing; report what would happen', false)
  .option('--verify', 'afterwards, compare per-user counts and checksums between source and target', false);

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('a whole number from 1 to 10000');
  return n;
}

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain SQL identifier');
const optionsSchema = z.object({
  source: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
  table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, 'must be table or schema.table'),
  idColumn: identifier,
  userColumn: identifier,
  roleColumn: identifier,
  contentColumn: identifier,
  createdColumn: identifier,
  batch: z.number().int().min(1).max(10_000),
  runId: z.string().regex(ID_PATTERN, 'must be 1–128 letters, digits, "_" or "-"').optional(),
  dryRun: z.boolean(),
  verify: z.boolean(),
});

async function main(): Promise<number> {
  const parsed = optionsSchema.safeParse(program.parse().opts());
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((issue) => `--${String(issue.path[0])} ${issue.message}`).join('; '));
  }
  const options = parsed.data;
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const tty = process.stdout.isTTY === true;
  const table: LegacyTable = {
    table: options.table,
    columns: {
      id: options.idColumn,
      userId: options.userColumn,
      role: options.roleColumn,
      content: options.contentColumn,
      createdAt: options.createdColumn,
    },
  };
  const runId = options.runId ?? defaultRunId(options.source, options.table);

  const sidecar = connectDaprSidecar({ host: config.dapr.host, httpPort: config.dapr.httpPort, logger: log });
  const storeOptions = { timeoutMs: Math.max(config.dapr.timeoutMs, 30_000) };
  const stores = {
    target: createDaprStateStore(sidecar, config.stores.hot, storeOptions),
    checkpoints: createDaprStateStore(sidecar, config.stores.durable, storeOptions),
  };
  const source = new pg.Client(sourceClientConfig(options.source));
  await source.connect();
  try {
    return await run(source, stores, { runId, table, options, config, log, tty });
  } finally {
    await source.end();
    await sidecar.close();
  }
}

interface RunContext {
  runId: string;
  table: LegacyTable;
  options: z.infer<typeof optionsSchema>;
  config: Config;
  log: Logger;
  tty: boolean;
}

async function run(source: pg.Client, stores: MigrationStores, context: RunContext): Promise<number> {
  const { runId, table, options, config, log, tty } = context;
  const settings = {
    runId,
    source: sourceFingerprint(table),
    oid: await tableOid(source, table),
    maxMessages: config.chat.maxMessages,
    ttlSeconds: config.chat.historyTtlSeconds,
    dryRun: options.dryRun,
    batchUsers: options.batch,
    now: () => Date.now(),
  };
  // For the progress bar: a pass that resumes reads the users after its last one, a new pass all.
  const { lastUserId } = planPass(await loadCheckpoint(stores.checkpoints, runId), settings);
  const total = await countUsers(source, table, lastUserId);
  const bar = tty ? new SingleBar({ format: 'migrating {bar} {value}/{total} users | {eta_formatted} left | failed {failed}' }) : undefined;
  bar?.start(total, 0, { failed: 0 });
  const skipped: Array<{ userId: string; reason: string }> = [];
  const onBatch = (report: BatchReport) => {
    bar?.increment(report.users, { failed: report.counts.failed });
    if (!tty) log.info({ event: 'batch', runId, users: report.users, lastUserId: report.lastUserId, ...report.counts }, 'batch done');
    for (const failure of report.failures) log.warn({ event: 'user-failed', runId, ...failure }, 'user not migrated');
    for (const skip of report.skipped) {
      if (tty) skipped.push(skip);
      else log.warn({ event: 'user-skipped-existing', runId, ...skip }, 'user already migrated; new source messages not merged');
    }
  };
  const result = await migrate(
    (afterUserId) => readHistories(source, table, { maxMessages: settings.maxMessages, ...(afterUserId ? { afterUserId } : {}) }),
    stores,
    settings,
    onBatch,
  );
  bar?.stop();
  if (tty) {
    console.log(`\n${terminalSummary(result, table.table)}`);
    // Ids come from the source database: quoted, so no control sequence reaches the terminal.
    for (const s of skipped.slice(0, 20)) console.log(`  ${JSON.stringify(s.userId)}: ${s.reason}`);
  } else {
    log.info(jsonSummary(result, table.table), headline(result, table.table));
  }
  let exitCode = result.counts.failed > 0 ? 1 : 0;
  if (options.verify) {
    const report = await verify(readHistories(source, table, { maxMessages: settings.maxMessages }), stores.target, settings);
    if (tty) {
      console.log(
        `\nVerify: ${report.users} users, ${report.matching} match, ${report.expired} expired, ${report.live} live-owned, ${report.mismatches.length} mismatched`,
      );
      for (const m of report.mismatches.slice(0, 20)) console.log(`  ${JSON.stringify(m.userId)}: ${m.reason}`);
    } else {
      log.info({ event: 'verify', ...report, mismatches: report.mismatches.slice(0, 100), mismatched: report.mismatches.length }, 'verify');
    }
    if (report.mismatches.length > 0) exitCode = 1;
  }
  return exitCode;
}

/**
 * The same source and table give the same run id: a plain re-run resumes a killed pass, or starts
 * a new pass over the source after a completed one.
 */
function defaultRunId(sourceUrl: string, table: string): string {
  const url = new URL(sourceUrl);
  url.password = '';
  return `chat-${createHash('sha256').update(`${url.host}${url.pathname}|${table}`).digest('hex').slice(0, 16)}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`migrate:chat failed: ${error instanceof Error ? error.message : String(error)}`);
    console.error('Nothing is lost: run the same command again to resume from the last checkpoint.');
    process.exit(2);
  },
);
