import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProcess, startProcess } from '../support/process.js';
import { missing } from '../support/services.js';
import { projectRoot } from '../support/stack.js';

/** What `npm start` runs after building: the compiled stand-in and host, on free ports here. */
beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: projectRoot });
}, 60_000);

const READY = /Ctrl-C stops both/;
const apiUrl = (output: string) => /Functions host:\s+(http:\/\/localhost:\d+\/api)/.exec(output)?.[1] ?? '';

describe('npm start', () => {
  let app: RunningProcess;

  beforeAll(async () => {
    app = await startProcess(['dist/dev/start.js', '--port', '0', '--dapr-port', '0'], { AUTH_MODE: '', LOG_LEVEL: 'warn' }, READY);
  }, 60_000);

  afterAll(async () => {
    await app.stop('SIGKILL');
  });

  it('prints both URLs and every function', () => {
    expect(app.output()).toMatch(/Dapr state API stand-in: http:\/\/127\.0\.0\.1:\d+\/v1\.0/);
    expect(app.output()).toMatch(/health: \[GET\] http:\/\/localhost:\d+\/api\/health/);
    expect(app.output()).toContain('AUTH_MODE=trusted-header');
  });

  it('serves GET /api/health with both in-memory stores ok', async () => {
    const response = await fetch(`${apiUrl(app.output())}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', stores: { statestore: 'ok', 'statestore-durable': 'ok' } });
  });

  it('stops cleanly on Ctrl-C', async () => {
    expect(await app.stop('SIGINT')).toBe(0);
  });
});

describe('npm start with a bad setting', () => {
  it('refuses to start and names the setting', async () => {
    const child = spawn(process.execPath, ['dist/dev/start.js', '--port', '0', '--dapr-port', '0'], {
      cwd: projectRoot,
      env: { ...process.env, CHAT_HISTORY_MAX_MESSAGES: 'lots' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toMatch(/CHAT_HISTORY_MAX_MESSAGES: .*"lots"/);
  });
});

describe.skipIf(missing('redis', 'postgres'))('npm run start:services', () => {
  it('serves the API on the real Redis and PostgreSQL, and stops on Ctrl-C', async () => {
    const app = await startProcess(['dist/dev/start.js', '--port', '0', '--dapr-port', '0', '--backends', 'real'], { LOG_LEVEL: 'warn' }, READY);
    expect(app.output()).toMatch(/statestore on Redis 127\.0\.0\.1:6379/);
    expect(app.output()).toMatch(/statestore-durable on PostgreSQL/);
    const health = await fetch(`${apiUrl(app.output())}/health`);
    expect(health.status).toBe(200);
    expect(await app.stop('SIGINT')).toBe(0);
  });
});
