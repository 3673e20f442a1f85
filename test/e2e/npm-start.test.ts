import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProcess, startProcess } from '../support/process.js';
import { uniqueId } from '../support/ids.js';
import { missing } from '../support/services.js';
import { projectRoot } from '../support/stack.js';

/** What `npm start` runs after building: the compiled stand-in and host, on free ports here. */
beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: projectRoot });
  // Marks the build's copy of the viewer, so a test can tell it from the npm package's (absent in the image).
  appendFileSync(`${projectRoot}dist/vendor/scalar-api-reference.js`, VENDOR_MARK);
}, 60_000);

const VENDOR_MARK = '\n// the copy in dist/vendor\n';

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

  it('loads every function file from the bundled build and serves data, the OpenAPI document and the reference page with the build’s copy of its script', async () => {
    const api = apiUrl(app.output());
    const files = readdirSync(`${projectRoot}dist/functions`).filter((file) => file.endsWith('.js'));
    const sources = readdirSync(`${projectRoot}functions`).filter((file) => file.endsWith('.ts'));
    expect(files.sort()).toEqual(sources.map((file) => file.replace(/\.ts$/, '.js')).sort());
    expect(readdirSync(`${projectRoot}dist/functions/chunks`).some((file) => file.endsWith('.js'))).toBe(true);
    for (const name of sources) expect(app.output()).toContain(`${name.replace(/\.ts$/, '')}: [`);

    const user = uniqueId('bundle');
    const headers = { 'x-user-id': user, 'content-type': 'application/json' };
    const posted = await fetch(`${api}/users/${user}/chat/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ role: 'user', content: 'hi' }),
    });
    expect(posted.status).toBe(201);
    const history = await fetch(`${api}/users/${user}/chat/messages`, { headers });
    expect(((await history.json()) as { messages: unknown[] }).messages).toHaveLength(1);
    // zod's messages, in English (the bundle keeps zod's English locale only: dev/bundle-functions.mjs).
    const invalid = await fetch(`${api}/users/${user}/chat/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ role: 'user', content: 5 }),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      error: { code: 'validation_failed', details: [{ path: 'body.content', message: 'Invalid input: expected string, received number' }] },
    });
    expect((await fetch(`${api}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${api}/docs`)).status).toBe(200);
    const script = await fetch(`${api}/docs/scalar.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).endsWith(VENDOR_MARK)).toBe(true);
  });

  it('refuses a 100 MiB body with 413 before reading it (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT from local.settings.example.json)', async () => {
    const { port } = new URL(apiUrl(app.output()));
    const socket = connect(Number(port), '127.0.0.1');
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    socket.on('error', () => undefined);
    const closed = once(socket, 'close');
    socket.write(
      `PUT /api/users/u1/chat/session HTTP/1.1\r\nHost: localhost\r\nx-user-id: u1\r\ncontent-type: application/json\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n`,
    );
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('leaves bodies just over 256 KiB to the app, which answers its JSON 413 with a correlation id', async () => {
    const response = await fetch(`${apiUrl(app.output())}/users/u1/chat/session`, {
      method: 'PUT',
      headers: { 'x-user-id': 'u1', 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(256 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('x-correlation-id')).toBeTruthy();
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
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

describe('npm start on the command line', () => {
  async function run(args: string[]): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, ['dist/dev/start.js', ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += String(chunk)));
    child.stderr?.on('data', (chunk) => (output += String(chunk)));
    const [code] = await once(child, 'exit');
    return { code, output };
  }

  it('lists every flag under --help', async () => {
    const { code, output } = await run(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--port', '--dapr-port', '--app-id', '--components', '--backends', '--help']) {
      expect(output).toContain(flag);
    }
  });

  it.each([
    ['--dapr-port', (port: number) => ['--port', '0', '--dapr-port', String(port)]],
    ['--port', (port: number) => ['--port', String(port), '--dapr-port', '0']],
  ])('names %s when its port is taken', async (flag, args) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const { code, output } = await run(args(port));
      expect(code).toBe(1);
      expect(output).toContain(`port ${port} is already in use; choose another with ${flag} <port>`);
    } finally {
      blocker.close();
    }
  });
});

describe.skipIf(missing('redis', 'postgres'))('npm run start:services', () => {
  it('serves the API on the real Redis and PostgreSQL, and stops on Ctrl-C', async () => {
    const app = await startProcess(
      ['dist/dev/start.js', '--port', '0', '--dapr-port', '0', '--backends', 'real'],
      { LOG_LEVEL: 'warn' },
      READY,
    );
    expect(app.output()).toMatch(/statestore on Redis 127\.0\.0\.1:6379/);
    expect(app.output()).toMatch(/statestore-durable on PostgreSQL/);
    const health = await fetch(`${apiUrl(app.output())}/health`);
    expect(health.status).toBe(200);
    expect(await app.stop('SIGINT')).toBe(0);
  });
});
