import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { type BenchProcess, compiledRoot, cpuMs, freePort, startNode, waitFor200 } from './processes.js';
import { HISTORY_KEY, HISTORY_USER, seedHistory } from './scenarios.js';

/**
 * A paired comparison of two host set-ups on one route, for changes smaller than the noise between
 * benchmark runs (CPU per request moves by ±0.1 ms from run to run on a shared 2-core machine).
 * Two hosts run side by side against one stand-in, each started with its own extra environment
 * (NODE_OPTIONS included); rounds alternate between them, and the host's CPU per request is read
 * around each round. The hosts are pinned to the second CPU and everything else to the first, so
 * a host does not share its core with the load it serves. The median of the paired differences
 * is the answer; an A/A run (both sides empty) shows the noise left.
 *
 *   npm run bench -- (once, to build dist-bench/), then
 *   node dist-bench/bench/ab.js --a 'NODE_OPTIONS=--max-semi-space-size=8' [--b ''] [--path /bench/sdk] [--rounds 10]
 *
 * The path is below /api; the default is the history fetch of the benchmark (50 messages, 20 read).
 */
const { values } = parseArgs({
  options: {
    a: { type: 'string', default: '' },
    b: { type: 'string', default: '' },
    path: { type: 'string', default: `/users/${HISTORY_USER}/chat/messages?limit=20` },
    rounds: { type: 'string', default: '10' },
    requests: { type: 'string', default: '3000' },
  },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);

/** `NAME=value NAME2=value2` (a value may hold `=`, not spaces). */
const environment = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split(' ')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
function pin(pid: number, cpu: number): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(`could not pin process ${pid} to CPU ${cpu} (needs taskset from util-linux and two CPUs)`, { cause: error });
  }
}
function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

const started: BenchProcess[] = [];
try {
  const sidecarPort = await freePort();
  const sidecar = startNode('stand-in', `${compiledRoot}dev/sidecar/main.js`, ['--port', String(sidecarPort)], {});
  started.push(sidecar);
  pin(sidecar.pid, 0);
  pin(process.pid, 0);
  await waitFor200(sidecar, `http://127.0.0.1:${sidecarPort}/v1.0/metadata`);

  const hosts: Array<{ label: 'A' | 'B'; process: BenchProcess; api: string }> = [];
  for (const [label, extra] of [
    ['A', values.a],
    ['B', values.b],
  ] as const) {
    const port = await freePort();
    const host = startNode(
      `host ${label}`,
      `${compiledRoot}dev/host/main.js`,
      [
        '--port',
        String(port),
        '--functions',
        `${compiledRoot}functions/*.js`,
        '--functions',
        `${compiledRoot}functions/bench/noop-function.js`,
      ],
      {
        AUTH_MODE: 'trusted-header',
        LOG_LEVEL: 'silent',
        DAPR_HOST: '127.0.0.1',
        DAPR_HTTP_PORT: String(sidecarPort),
        BENCH_HISTORY_KEY: HISTORY_KEY,
        // Written by `npm run bench` (bench/main.ts), for --path /bench/body.
        BENCH_HISTORY_PAGE: `${compiledRoot}history-page.json`,
        ...environment(extra),
      },
    );
    started.push(host);
    pin(host.pid, 1);
    const api = `http://127.0.0.1:${port}/api`;
    await waitFor200(host, `${api}/health`);
    hosts.push({ label, process: host, api });
  }
  const [first] = hosts;
  if (!first) throw new Error('no host');
  await seedHistory(first);

  const perRequest = async (host: (typeof hosts)[number], amount: number): Promise<number> => {
    const before = cpuMs(host.process.pid);
    const result = await autocannon({ url: `${host.api}${values.path}`, headers: { 'x-user-id': HISTORY_USER }, connections: 10, amount });
    if (result.non2xx + result.errors > 0) throw new Error(`host ${host.label}: ${result.non2xx + result.errors} failed requests`);
    return (cpuMs(host.process.pid) - before) / amount;
  };
  for (const host of hosts) await perRequest(host, 1000); // warm-up
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? hosts : [...hosts].reverse();
    const cpu: Record<string, number> = {};
    for (const host of order) cpu[host.label] = await perRequest(host, requests);
    a.push(cpu.A ?? Number.NaN);
    b.push(cpu.B ?? Number.NaN);
  }
  const differences = a.map((value, i) => value - (b[i] ?? Number.NaN));
  const fmt = (value: number) => value.toFixed(3);
  process.stdout.write(
    `host CPU ms per request on ${values.path}, ${rounds} rounds of ${requests}\n` +
      `A [${values.a}]: median ${fmt(median(a))}\nB [${values.b}]: median ${fmt(median(b))}\n` +
      `A − B: median ${fmt(median(differences))} (rounds: ${differences.map(fmt).join(' ')})\n`,
  );
} finally {
  for (const proc of started.reverse()) await proc.stop();
}
