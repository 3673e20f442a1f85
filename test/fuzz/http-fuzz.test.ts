import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { type FuzzRequest, fuzzRequest } from './arbitraries.js';

/**
 * Property-based requests over every route the local runtime serves. CI runs a fixed seed (the
 * run is the same every time); `npm run fuzz` runs 10,000 cases on a fresh seed. The seed is
 * printed either way: `FUZZ_SEED=<seed> FUZZ_RUNS=<n> npx vitest run test/fuzz` replays a run.
 */
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RANDOM ? Date.now() % 2 ** 31 : 20_261_201;
const numRuns = Number(process.env.FUZZ_RUNS ?? 2000);
/** The host's limit for this app (local.settings.example.json); the app's own is 256 KiB. */
const hostBodyLimit = Number(
  (JSON.parse(readFileSync(new URL('../../local.settings.example.json', import.meta.url), 'utf8')) as { Values: Record<string, string> })
    .Values.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT,
);
const rssBudget = 256 * 1024 * 1024;

let stack: Stack;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

beforeAll(async () => {
  stack = await startStack({ FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(hostBodyLimit) });
  console.log(`fuzz: seed ${seed}, ${numRuns} runs (replay: FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns} npx vitest run test/fuzz)`);
});

afterAll(async () => {
  agent.destroy();
  await stack?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function send(req: FuzzRequest): Promise<Answer> {
  const { port } = stack.host;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['content-length'] = String(req.body.length);
    const outgoing = request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    // The host may answer 413 and close before the whole body is written: the answer still counts.
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

function servedMethods(route: string): string[] {
  return stack.host.functions.filter((f) => f.route === route).flatMap((f) => f.methods);
}

/** How deep arrays and objects nest in a JSON text (0 for a scalar), counted outside strings. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') deepest = Math.max(deepest, ++depth);
    else if (ch === ']' || ch === '}') depth--;
  }
  return deepest;
}

const bodyMethods = new Set(['POST', 'PUT', 'PATCH']);

/** What every answer must satisfy, per docs/http-api.md. Throws (via expect) on a violation. */
function checkAnswer(req: FuzzRequest, answer: Answer): void {
  const context = `${req.method} ${req.path} → ${answer.status} ${answer.body.toString('utf8', 0, 300)}`;
  expect(answer.status, context).toBeLessThan(500);
  if (!servedMethods(req.route).includes(req.method)) {
    expect(answer.status, `no function serves this method: ${context}`).toBe(404);
    expect(answer.body.length, context).toBe(0);
    return;
  }
  if ((req.body?.length ?? 0) > hostBodyLimit) {
    expect(answer.status, `over the host's body limit: ${context}`).toBe(413);
    return;
  }
  // Everything else reached a function: JSON with a correlation id (the docs page is HTML, its viewer JavaScript).
  expect(answer.headers['x-correlation-id'], `no x-correlation-id: ${context}`).toBeTruthy();
  if (req.body && bodyMethods.has(req.method) && answer.status < 300) {
    const depth = nestingDepth(req.body.toString('utf8'));
    expect(depth, `accepted a body nested ${depth} levels deep (at most 32): ${context}`).toBeLessThanOrEqual(32);
  }
  if (answer.status === 204 || req.method === 'HEAD') return;
  const type = String(answer.headers['content-type'] ?? '');
  if (req.route === 'api/docs' && answer.status === 200) {
    expect(type).toMatch(/^text\/html/);
    return;
  }
  if (req.route === 'api/docs/scalar.js' && answer.status === 200) {
    expect(type).toMatch(/^text\/javascript/);
    return;
  }
  expect(type, `not JSON: ${context}`).toMatch(/^application\/(problem\+)?json/);
  expect(() => JSON.parse(answer.body.toString('utf8')), `unparseable JSON: ${context}`).not.toThrow();
}

describe('fuzzing every route of the local runtime', () => {
  it(
    'never answers 5xx, answers JSON with x-correlation-id from every function, survives, and stays within its memory budget',
    async () => {
      const rssBefore = process.memoryUsage().rss;
      await fc.assert(
        fc.asyncProperty(fuzzRequest(stack.host.functions), async (req) => {
          checkAnswer(req, await send(req));
        }),
        { seed, numRuns, endOnFailure: true },
      );
      const health = await fetch(`${stack.api}/health`);
      expect(health.status).toBe(200);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(rssBudget);
    },
    Math.max(120_000, numRuns * 60),
  );
});
