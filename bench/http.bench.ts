import autocannon from 'autocannon';
import { startStack } from '../test/support/stack.js';

/**
 * `npm run bench`: throughput and latency of the hot paths through the whole local runtime (the
 * Functions host, the real DaprClient, the sidecar stand-in in memory), with the targets we hold
 * ourselves to on a 2-core machine. Exits 1 when a target is missed.
 */
interface Scenario {
  name: string;
  /** `maxFailedShare`: answers that are not 2xx, as a share of all (default 0). */
  target: { minRequestsPerSecond: number; maxP99Ms: number; maxFailedShare?: number };
  setup?: (api: string) => Promise<void>;
  request: (api: string) => autocannon.Options;
}

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const json = { 'content-type': 'application/json', 'x-user-id': 'bench-user' };

const scenarios: Scenario[] = [
  {
    name: 'GET /api/health',
    target: { minRequestsPerSecond: 400, maxP99Ms: 100 },
    request: (api) => ({ url: `${api}/health` }),
  },
  {
    name: 'POST chat message (append, 1000 users)',
    target: { minRequestsPerSecond: 300, maxP99Ms: 100 },
    request: (api) => {
      let n = 0;
      return {
        url: api,
        requests: [
          {
            method: 'POST',
            body: JSON.stringify({ role: 'user', content: 'How do I reset my password?' }),
            setupRequest: (request) => {
              n += 1;
              const user = `bench-${n % 1000}`;
              return { ...request, path: `/api/users/${user}/chat/messages`, headers: { ...json, 'x-user-id': user } };
            },
          },
        ],
      };
    },
  },
  {
    name: 'POST chat message (10 writers on one user: compare-and-set retries)',
    // Ten writers on one document: a request may rarely spend its whole retry budget (409).
    target: { minRequestsPerSecond: 150, maxP99Ms: 1000, maxFailedShare: 0.01 },
    request: (api) => ({
      url: `${api}/users/bench-user/chat/messages`,
      method: 'POST',
      headers: json,
      body: JSON.stringify({ role: 'user', content: 'How do I reset my password?' }),
    }),
  },
  {
    name: 'GET chat history page',
    target: { minRequestsPerSecond: 300, maxP99Ms: 150 },
    request: (api) => ({ url: `${api}/users/bench-user/chat/messages?limit=20`, headers: json }),
  },
  {
    name: 'GET tasks (cache HIT)',
    target: { minRequestsPerSecond: 300, maxP99Ms: 150 },
    setup: async (api) => {
      for (let i = 0; i < 50; i += 1) {
        await fetch(`${api}/users/bench-user/tasks`, { method: 'POST', headers: json, body: JSON.stringify({ title: `task ${i}` }) });
      }
      await fetch(`${api}/users/bench-user/tasks`, { headers: json });
    },
    request: (api) => ({ url: `${api}/users/bench-user/tasks`, headers: json }),
  },
];

const stack = await startStack({ LOG_LEVEL: 'silent' });
let missed = 0;
try {
  for (const scenario of scenarios) {
    await scenario.setup?.(stack.api);
    const result = await autocannon({ ...scenario.request(stack.api), connections: 10, duration: DURATION_SECONDS });
    const rps = Math.round(result.requests.average);
    const p99 = result.latency.p99;
    const failed = result.non2xx + result.errors + result.timeouts;
    const allowedFailures = (scenario.target.maxFailedShare ?? 0) * result.requests.total;
    const ok = rps >= scenario.target.minRequestsPerSecond && p99 <= scenario.target.maxP99Ms && failed <= allowedFailures;
    if (!ok) missed += 1;
    console.log(
      `${ok ? 'ok  ' : 'MISS'} ${scenario.name}: ${rps} req/s (≥ ${scenario.target.minRequestsPerSecond}), ` +
        `p99 ${p99} ms (≤ ${scenario.target.maxP99Ms}), ${failed} failed`,
    );
  }
  const rssMiB = Math.round(process.memoryUsage().rss / 1024 / 1024);
  const rssOk = rssMiB <= 400;
  if (!rssOk) missed += 1;
  console.log(`${rssOk ? 'ok  ' : 'MISS'} resident memory after the runs: ${rssMiB} MiB (≤ 400)`);
} finally {
  await stack.close();
}
process.exit(missed === 0 ? 0 : 1);
