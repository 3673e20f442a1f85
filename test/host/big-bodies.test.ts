import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Issue 11: six 100 MiB bodies at once took the local process to 1.08 GB. The host now stops
 * reading at FUNCTIONS_REQUEST_BODY_SIZE_LIMIT and answers 413 at once, so memory stays flat.
 */
const hostLimit = 270_336;
const uploadBytes = 100 * 1024 * 1024;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(hostLimit) });
});

afterAll(async () => {
  await stack?.close();
});

interface Upload {
  status: number;
  /** How much of the body the client got to write before the host answered. */
  written: number;
}

/** Streams up to 100 MiB of JSON-ish bytes, stopping as soon as the host answers. */
function upload(path: string, declareLength: boolean): Promise<Upload> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const headers: Record<string, string> = { 'x-user-id': 'big-1', 'content-type': 'application/json' };
    if (declareLength) headers['content-length'] = String(uploadBytes);
    const req = request({ host: '127.0.0.1', port: stack.host.port, method: 'PUT', path, headers }, (res) => {
      answered = true;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, written }));
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const pump = (): void => {
      while (!answered && written < uploadBytes) {
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('bodies far over the host limit', () => {
  it.each([
    ['chunked', false],
    ['with a declared Content-Length', true],
  ])('six 100 MiB uploads at once (%s) each get 413 early, memory stays flat, and others are still served', async (_, declared) => {
    const rssBefore = process.memoryUsage().rss;
    const uploads = Array.from({ length: 6 }, () => upload('/api/users/big-1/chat/session', declared));
    const health = await fetch(`${stack.api}/health`);
    const results = await Promise.all(uploads);
    expect(health.status).toBe(200);
    for (const result of results) {
      expect(result.status).toBe(413);
      expect(result.written).toBeLessThan(uploadBytes / 4);
    }
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });
});
