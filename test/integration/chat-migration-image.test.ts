import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateComponents, type Sidecar, startSidecar } from '../../dev/sidecar/server.js';
import { PrivateDatabase } from '../support/private-database.js';
import { missing } from '../support/services.js';
import { componentsDir, projectRoot } from '../support/stack.js';

/**
 * The operator command in the deployed image's layout, built as the Dockerfile builds it: the
 * production dependencies only (`npm ci --omit=dev`), the compiled `dist/` without `dist/dev`,
 * and package.json, in a folder of its own. No TypeScript, no tsx, no dev/ tools.
 */
const run = promisify(execFile);

describe.skipIf(missing('postgres'))('the chat migration CLI in the runtime layout (no dev dependencies)', () => {
  let layout: string;
  let sidecar: Sidecar;
  const database = new PrivateDatabase('migrate_image');
  const inLayout = (command: string, args: string[], env: Record<string, string> = {}) =>
    run(command, args, { cwd: layout, env: { ...process.env, NODE_ENV: 'production', ...env }, timeout: 60_000 });

  beforeAll(async () => {
    layout = await mkdtemp(join(tmpdir(), 'migrate-image-'));
    await Promise.all(['package.json', 'package-lock.json'].map((file) => copyFile(join(projectRoot, file), join(layout, file))));
    // The two slow steps side by side: installing from the npm cache, and compiling.
    await Promise.all([
      run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
        cwd: layout,
        timeout: 150_000,
      }),
      run(
        process.execPath,
        [join(projectRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(layout, 'dist')],
        {
          cwd: projectRoot,
          timeout: 150_000,
        },
      ),
    ]);
    await rm(join(layout, 'dist/dev'), { recursive: true, force: true }); // as the Dockerfile does

    await database.create();
    const source = await database.connect();
    try {
      await source.query('CREATE TABLE chat_messages (id text, user_id text, role text, content text, created_at timestamptz)');
      await source.query(
        `INSERT INTO chat_messages VALUES ('1', 'ana', 'user', 'hi', now() - interval '1 hour'), ('2', 'ana', 'assistant', 'hello', now() - interval '59 minutes'),
                                          ('3', 'bo', 'user', 'hey', now() - interval '2 hours')`,
      );
    } finally {
      await source.end();
    }
    sidecar = await startSidecar({ appId: `mig-image-${randomUUID().slice(0, 8)}`, components: await loadStateComponents(componentsDir) });
  }, 180_000);

  afterAll(async () => {
    await sidecar?.close();
    await database.drop();
    if (layout) await rm(layout, { recursive: true, force: true });
  });

  it('holds no dev dependency and no dev/ code', async () => {
    for (const dev of ['typescript', 'tsx', 'vitest', '@biomejs/biome']) {
      await expect(stat(join(layout, 'node_modules', dev))).rejects.toThrow(/ENOENT/);
    }
    await expect(stat(join(layout, 'dist/dev'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(layout, 'dist/scripts/migrate-chat.js'))).resolves.toBeTruthy();
  });

  it('answers --help through the npm script operators are told to use', async () => {
    const { stdout } = await inLayout('npm', ['run', '--silent', 'migrate:chat', '--', '--help']);
    expect(stdout).toMatch(/Usage: migrate:chat/);
    expect(stdout).toMatch(/--source <url>/);
    expect(stdout).toMatch(/--run-id <id>/);
    // The deployed dist/ is still there: the command does not rebuild (which needs TypeScript).
    await expect(stat(join(layout, 'dist/scripts/migrate-chat.js'))).resolves.toBeTruthy();
  }, 60_000);

  it('runs a dry run against the stand-in with node alone, and writes nothing', async () => {
    sidecar.journal.reset();
    const { stdout } = await inLayout(process.execPath, ['dist/scripts/migrate-chat.js', '--source', database.url, '--dry-run'], {
      DAPR_HOST: '127.0.0.1',
      DAPR_HTTP_PORT: String(sidecar.port),
      LOG_LEVEL: 'info',
    });
    const summary = stdout
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line))
      .find((line) => line.event === 'summary');
    expect(summary).toMatchObject({ dryRun: true, pass: 1, migrated: 2, failed: 0, source: { table: 'chat_messages', usersScanned: 2 } });
    const calls = Object.keys(sidecar.journal.counts());
    expect(calls).toContain('bulk:statestore'); // it read the target through the stand-in
    expect(calls.filter((name) => /^(save|delete|transaction)/.test(name))).toEqual([]);
  }, 60_000);
});
