import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type Host } from '../../dev/host/host.js';
import { applyLocalSettings, requestBodySizeLimit, routePrefixFromHostJson } from '../../dev/host/settings.js';
import { captureLogger } from './capture-logger.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const limit = 1024;
let host: Host;

beforeAll(async () => {
  host = await startHost({
    functionFiles: [`${fixtures}echo.ts`],
    maxRequestBodyBytes: limit,
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    logger: captureLogger(),
  });
});

afterAll(async () => {
  await host?.close();
});

interface Exchange {
  socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<string>;
  /** Resolves once the server has sent something. */
  answered: Promise<void>;
}

/** A raw connection to the host: the test writes exactly the bytes it wants, when it wants. */
async function open(): Promise<Exchange> {
  const socket = connect(host.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  let onAnswer: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => (onAnswer = resolve));
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    onAnswer();
  });
  const closed = new Promise<string>((resolve) => {
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
  });
  return { socket, closed, answered };
}

const statusLine = (response: string): string => response.split('\r\n')[0] ?? '';

describe('request body limit', () => {
  it('refuses a declared Content-Length over the limit with 413 before any of the body is sent', async () => {
    const { socket, closed } = await open();
    socket.write(`POST /api/echo/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
    const response = await closed;
    expect(statusLine(response)).toBe('HTTP/1.1 413 Payload Too Large');
    expect(response.toLowerCase()).toContain('connection: close');
  });

  it('refuses a chunked body with 413 as soon as it passes the limit, without waiting for the rest', async () => {
    const { socket, closed } = await open();
    socket.write('POST /api/echo/1 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = 'x'.repeat(limit + 1);
    // One chunk past the limit, and the body never ends: only a cut-off can answer.
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    expect(statusLine(await closed)).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('accepts a chunked body of exactly the limit', async () => {
    const body = new Uint8Array(limit).fill(65);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body.subarray(0, 600));
        controller.enqueue(body.subarray(600));
        controller.close();
      },
    });
    const res = await fetch(`${host.url}/api/echo/1`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { body: string }).body).toHaveLength(limit);
  });

  it('reads FUNCTIONS_REQUEST_BODY_SIZE_LIMIT as bytes, like the real host; the default is 100 MB', () => {
    expect(requestBodySizeLimit({ FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '270336' })).toBe(270_336);
    expect(requestBodySizeLimit({})).toBe(104_857_600);
    const logger = captureLogger();
    expect(requestBodySizeLimit({ FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '256KB' }, logger)).toBe(104_857_600);
    expect(logger.text('warn')).toContain("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT='256KB'");
  });

  it('takes its limit from FUNCTIONS_REQUEST_BODY_SIZE_LIMIT when no option sets it', async () => {
    const before = process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
    process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT = '10';
    const small = await startHost({ functionFiles: [`${fixtures}echo.ts`], logger: captureLogger() });
    if (before === undefined) delete process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
    else process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT = before;
    try {
      expect((await fetch(`${small.url}/api/echo/1`, { method: 'POST', body: '0123456789' })).status).toBe(200);
      expect((await fetch(`${small.url}/api/echo/1`, { method: 'POST', body: '0123456789!' })).status).toBe(413);
    } finally {
      await small.close();
    }
  });
});

describe('local.settings.json and host.json', () => {
  it('applies Values to the environment like func start (variables already set win) and reads the route prefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-settings-'));
    try {
      const Values = { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '2048', AUTH_MODE: 'trusted-header' };
      writeFileSync(join(dir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values }));
      const env: NodeJS.ProcessEnv = { AUTH_MODE: 'platform' };
      expect(applyLocalSettings(dir, env)).toEqual(['FUNCTIONS_REQUEST_BODY_SIZE_LIMIT']);
      expect(env).toEqual({ AUTH_MODE: 'platform', FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '2048' });
      expect(applyLocalSettings(join(dir, 'absent'), env)).toEqual([]);
      expect(routePrefixFromHostJson(dir)).toBeUndefined();
      writeFileSync(join(dir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: '' } } }));
      expect(routePrefixFromHostJson(dir)).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('slow clients', () => {
  it('answers 408 and closes when the headers do not arrive in time', async () => {
    const { socket, closed } = await open();
    socket.write('GET /api/echo/1 HTTP/1.1\r\nHost: localhost\r\n');
    expect(statusLine(await closed)).toBe('HTTP/1.1 408 Request Timeout');
  });

  it('answers 408 and closes when the body trickles in slower than the request timeout allows', async () => {
    const { socket, closed } = await open();
    socket.write('POST /api/echo/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789');
    const trickle = setInterval(() => socket.writable && socket.write('x'), 50);
    try {
      expect(statusLine(await closed)).toBe('HTTP/1.1 408 Request Timeout');
    } finally {
      clearInterval(trickle);
    }
  });

  it('keeps serving other clients while one is held', async () => {
    const { socket, closed } = await open();
    socket.write('POST /api/echo/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n');
    expect((await fetch(`${host.url}/api/echo/2`)).status).toBe(200);
    await closed;
  });
});

describe('Host header', () => {
  it('answers 400 to a name that is not loopback while listening on loopback (DNS rebinding)', async () => {
    for (const value of ['example.com', 'attacker.example:7071', '10.0.0.1']) {
      const { socket, closed } = await open();
      socket.write(`GET /api/echo/1 HTTP/1.1\r\nHost: ${value}\r\nConnection: close\r\n\r\n`);
      expect(statusLine(await closed)).toBe('HTTP/1.1 400 Bad Request');
    }
  });

  it.each(['a@b', 'user:pw@localhost', 'a b', 'a/b'])('answers 400 to Host: %s and keeps serving', async (value) => {
    const { socket, closed } = await open();
    socket.write(`GET /api/echo/1 HTTP/1.1\r\nHost: ${value}\r\nConnection: close\r\n\r\n`);
    expect(statusLine(await closed)).toBe('HTTP/1.1 400 Bad Request');
    expect((await fetch(`${host.url}/api/echo/1`)).status).toBe(200);
  });

  it('serves a Host with a port, an IPv6 literal, or an empty one (as Kestrel does)', async () => {
    for (const value of ['localhost:7071', '[::1]:80', '127.0.0.1', '']) {
      const { socket, closed } = await open();
      socket.write(`GET /api/echo/1 HTTP/1.1\r\nHost: ${value}\r\nConnection: close\r\n\r\n`);
      expect(statusLine(await closed)).toBe('HTTP/1.1 200 OK');
    }
  });
});
