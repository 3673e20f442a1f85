import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchSeconds, bestOf, runHttpScenario, type ScenarioResult, type Stack } from './measure.js';
import { type BenchProcess, compiledRoot, freePort, rssMiB, startNode, waitFor200 } from './processes.js';
import { printReport } from './report.js';
import { HISTORY_KEY, historyPage, httpScenarios, seedHistory, workflowCreateStepCalls } from './scenarios.js';
import { runBulkComparison } from './store-bulk.js';

/**
 * `npm run bench`: every hot operation measured in one run against floors measured in the same
 * run (raw sidecar GET, a bare node:http server making the same @dapr/dapr call, a no-op
 * function), each piece in its own process so CPU per request can be read from /proc. The targets
 * are ratios, CPU per request and sidecar calls per operation, which hold on any machine; exit 1
 * names every missed target. See README "Performance".
 *
 * BENCH_SECONDS (default 3) per scenario and round; BENCH_ROUNDS (default 3) interleaved rounds,
 * of which each scenario reports its best (a noisy neighbour only ever makes a run worse); BENCH_ONLY=history,function-noop runs only those
 * scenario keys (targets on the others are not judged); BENCH_CPU_PROF=<dir> starts the host with
 * `node --cpu-prof` and writes its profile there when the run ends.
 */
const seconds = benchSeconds();
if (!(seconds > 0)) throw new Error(`BENCH_SECONDS must be a positive number, not '${process.env.BENCH_SECONDS}'`);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a whole number ≥ 1, not '${process.env.BENCH_ROUNDS}'`);
const only = process.env.BENCH_ONLY?.split(',')
  .map((key) => key.trim())
  .filter(Boolean);
const selected = (key: string) => !only || only.includes(key);
const cpuProfDir = process.env.BENCH_CPU_PROF;
const COLD_STARTS = 3;
/** The history scenario's answer, saved after seeding for the host's `bench/body` floor (bench/noop-function.ts). */
const HISTORY_PAGE_FILE = join(compiledRoot, 'history-page.json');

const script = (path: string) => join(compiledRoot, path);
const benchStarted = performance.now();
const progress = (text: string) => process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(1)} s] ${text}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

function startHost(sidecarPort: number, port: number, profile: boolean): BenchProcess {
  const flags = profile && cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  return startNode(
    'host',
    script('dev/host/main.js'),
    ['--port', String(port), '--functions', script('functions/*.js'), '--functions', script('functions/bench/noop-function.js')],
    {
      AUTH_MODE: 'trusted-header',
      LOG_LEVEL: 'silent',
      DAPR_HOST: '127.0.0.1',
      DAPR_HTTP_PORT: String(sidecarPort),
      BENCH_HISTORY_KEY: HISTORY_KEY,
      BENCH_HISTORY_PAGE: HISTORY_PAGE_FILE,
    },
    flags,
  );
}

/** Cold start: spawn to the first 200 of /api/health, the median of a few starts; the last host stays up. */
async function coldStarts(sidecarPort: number): Promise<{ host: BenchProcess; port: number; coldStartMs: number }> {
  const samples: number[] = [];
  for (let i = 0; ; i += 1) {
    const port = await freePort();
    const last = i === COLD_STARTS - 1;
    const host = startHost(sidecarPort, port, last);
    try {
      samples.push((await waitFor200(host, `http://127.0.0.1:${port}/api/health`)) - host.spawnedAt);
    } catch (error) {
      await host.stop();
      throw error;
    }
    if (last) return { host, port, coldStartMs: median(samples) };
    await host.stop();
  }
}

/** Importing every function file in a fresh process (the core shim first, as the host does); the median of three. */
async function functionsLoadMs(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const { stdout } = await promisify(execFile)(process.execPath, [script('bench/load-functions.js'), script('functions')], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    samples.push((JSON.parse(stdout) as { ms: number }).ms);
  }
  return median(samples);
}

const started: BenchProcess[] = [];
let missed: string[] = [];
try {
  const sidecarPort = await freePort();
  const sidecar = startNode('stand-in', script('dev/sidecar/main.js'), ['--port', String(sidecarPort)], {});
  started.push(sidecar);
  const sidecarUrl = `http://127.0.0.1:${sidecarPort}`;
  await waitFor200(sidecar, `${sidecarUrl}/v1.0/metadata`);

  progress('cold start and function files load…');
  const { host, port, coldStartMs } = await coldStarts(sidecarPort);
  started.push(host);
  const loadMs = await functionsLoadMs();

  const barePort = await freePort();
  const bare = startNode('bare server', script('bench/bare-server.js'), ['--port', String(barePort), '--key', HISTORY_KEY], {
    DAPR_HOST: '127.0.0.1',
    DAPR_HTTP_PORT: String(sidecarPort),
  });
  started.push(bare);
  const stack: Stack = { sidecar, host, bare, sidecarUrl, api: `http://127.0.0.1:${port}/api`, bareUrl: `http://127.0.0.1:${barePort}` };
  await waitFor200(bare, `${stack.bareUrl}/noop`);
  await seedHistory(stack);
  writeFileSync(HISTORY_PAGE_FILE, await historyPage(stack));

  const results = new Map<string, ScenarioResult>();
  const roundsOf = new Map<string, ScenarioResult[]>();
  for (let round = 1; round <= rounds; round += 1) {
    for (const scenario of httpScenarios.filter((s) => selected(s.key) && (round === 1 || !s.once))) {
      progress(`round ${round}/${rounds}: ${scenario.name}…`);
      const result = await runHttpScenario(scenario, stack, seconds, results);
      roundsOf.set(scenario.key, [...(roundsOf.get(scenario.key) ?? []), result]);
      results.set(scenario.key, bestOf(roundsOf.get(scenario.key) ?? [result]));
    }
  }
  let createStepCalls: number | undefined;
  if (selected('workflow')) {
    createStepCalls = await workflowCreateStepCalls(stack);
  }
  if (selected('bulk-get-100') || selected('sequential-get-100')) {
    progress('bulk get vs sequential gets…');
    for (const result of await runBulkComparison(stack, seconds)) results.set(result.key, result);
  }

  const facts = {
    scenarios: [...results.values()],
    workflowCreateStepCalls: createStepCalls,
    coldStartMs,
    functionsLoadMs: loadMs,
    rssMiB: rssMiB(host.pid),
    seconds,
    rounds,
  };
  const allowance = new Map(httpScenarios.map((s) => [s.key, s.allowedFailedShare ?? 0]));
  missed = printReport(facts, allowance);
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  missed = ['the benchmark did not complete'];
} finally {
  for (const proc of started.reverse()) await proc.stop();
}
process.exit(missed.length === 0 ? 0 : 1);
