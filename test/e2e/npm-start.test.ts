import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/services.js';
import { projectRoot } from '../support/stack.js';

/** What `npm start` runs after building: the compiled stand-in and host, on free ports here. */
beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: projectRoot });
}, 60_000);

describe('npm start', () => {
  let child: ChildProcess;
  let output = '';
  let api = '';

  beforeAll(async () => {
    child = spawn(process.execPath, ['dist/dev/start.js', '--port', '0', '--dapr-port', '0'], {
      cwd: projectRoot,
      env: { ...process.env, AUTH_MODE: '', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on('data', (chunk) => {
      output += String(chunk);
    });
    const deadline = Date.now() + 15_000;
    while (!/Ctrl-C stops both/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not come up:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    api = /Functions host:\s+(http:\/\/localhost:\d+\/api)/.exec(output)?.[1] ?? '';
  }, 60_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints both URLs and every function', () => {
    expect(output).toMatch(/Dapr state API stand-in: http:\/\/127\.0\.0\.1:\d+\/v1\.0/);
    expect(output).toMatch(/health: \[GET\] http:\/\/localhost:\d+\/api\/health/);
    expect(output).toContain('AUTH_MODE=trusted-header');
  });

  it('serves GET /api/health with both in-memory stores ok', async () => {
    const response = await fetch(`${api}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', stores: { statestore: 'ok', 'statestore-durable': 'ok' } });
  });

  it('stops cleanly on Ctrl-C', async () => {
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
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
    const child = spawn(process.execPath, ['dist/dev/start.js', '--port', '0', '--dapr-port', '0', '--backends', 'real'], {
      cwd: projectRoot,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on('data', (chunk) => {
      output += String(chunk);
    });
    const deadline = Date.now() + 15_000;
    while (!/Ctrl-C stops both/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`start:services did not come up:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(output).toMatch(/statestore on Redis 127\.0\.0\.1:6379/);
    expect(output).toMatch(/statestore-durable on PostgreSQL/);
    const api = /Functions host:\s+(http:\/\/localhost:\d+\/api)/.exec(output)?.[1];
    const health = await fetch(`${api}/health`);
    expect(health.status).toBe(200);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
