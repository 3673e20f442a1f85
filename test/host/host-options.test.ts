import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type Host } from '../../dev/host/host.js';
import { captureLogger } from './capture-logger.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const logger = captureLogger();
let host: Host;

beforeAll(async () => {
  host = await startHost({
    functionFiles: [`${fixtures}{echo,timer,hooks}.ts`],
    routePrefix: 'v1/',
    maxRequestBodyBytes: 1024,
    logger,
  });
});

afterAll(async () => {
  await host?.close();
});

function post(path: string, body: RequestInit['body'], init: RequestInit = {}): Promise<Response> {
  return fetch(`${host.url}${path}`, { method: 'POST', body, ...init });
}

describe('options', () => {
  it('resolves glob patterns in functionFiles', () => {
    expect(host.functions.map((f) => f.name).sort()).toEqual(['bytesEcho', 'echo', 'hooked']);
  });

  it('serves routes under a custom route prefix', async () => {
    expect((await fetch(`${host.url}/v1/echo/1`)).status).toBe(200);
    expect((await fetch(`${host.url}/api/echo/1`)).status).toBe(404);
  });

  it('skips non-HTTP triggers with a warning', () => {
    expect(logger.text('warn')).toContain(`Function 'nightly' has a timerTrigger trigger`);
  });

  it('accepts a body at the size limit', async () => {
    expect((await post('/v1/echo/1', 'x'.repeat(1024))).status).toBe(200);
  });

  it('answers 413 when the declared body size exceeds the limit', async () => {
    expect((await post('/v1/echo/1', 'x'.repeat(1025))).status).toBe(413);
  });

  it('answers 413 when a chunked body grows past the limit', async () => {
    const chunk = new Uint8Array(600);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await post('/v1/echo/1', body, { duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
  });
});

function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let response = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
  });
}

describe('malformed requests', () => {
  it('answers 400 instead of crashing when the Host header is not a valid authority', async () => {
    const response = await rawRequest(host.port, 'GET /v1/echo/1 HTTP/1.1\r\nHost: bad host\r\nConnection: close\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${host.url}/v1/echo/1`)).status).toBe(200);
  });
});

describe('hooks', () => {
  it('runs appStart, preInvocation and postInvocation hooks like the worker', async () => {
    const res = await fetch(`${host.url}/v1/hooked`);
    expect(await res.json()).toEqual({ result: { body: 'from handler' }, seenBy: 'preInvocation' });
  });
});

describe('close', () => {
  it('resolves with a keep-alive connection and a half-sent request open, and stops serving', async () => {
    const extra = await startHost({ functionFiles: [], logger: captureLogger() });
    const port = Number(new URL(extra.url).port);
    const keptAlive = connect(port, '127.0.0.1');
    const keptAliveClosed = new Promise((resolve) => keptAlive.once('close', resolve));
    keptAlive.on('error', () => undefined);
    keptAlive.write('GET /not-a-route HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const [answer] = await once(keptAlive, 'data');
    expect(String(answer)).toMatch(/^HTTP\/1\.1 404 [\s\S]*keep-alive/i);
    // Not idle: the server waits for the rest of these headers (30 s by default) unless close() cuts it.
    const halfSent = connect(port, '127.0.0.1');
    const halfSentClosed = new Promise((resolve) => halfSent.once('close', resolve));
    halfSent.on('error', () => undefined);
    await once(halfSent, 'connect');
    halfSent.write('GET /not-a-route HTTP/1.1\r\nHost: loc');
    expect(keptAlive.destroyed || halfSent.destroyed).toBe(false);

    // A hang guard only, far above any scheduling delay: close() must not wait for the clients.
    let guard: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((resolve) => {
      guard = setTimeout(() => resolve('hung'), 10_000);
    });
    const outcome = await Promise.race([extra.close().then(() => 'closed' as const), hung]);
    clearTimeout(guard);
    expect(outcome).toBe('closed');
    await Promise.all([keptAliveClosed, halfSentClosed]);
    await expect(fetch(`${extra.url}/not-a-route`)).rejects.toThrow();
  });
});
