import autocannon from 'autocannon';
import { cpuMs, type BenchProcess } from './processes.js';

/** The three processes of a run and where they listen. */
export interface Stack {
  sidecar: BenchProcess;
  host: BenchProcess;
  bare: BenchProcess;
  /** `http://127.0.0.1:P` (the stand-in) */
  sidecarUrl: string;
  /** `http://127.0.0.1:Q/api` (the host) */
  api: string;
  /** `http://127.0.0.1:R` (the bare node:http server) */
  bareUrl: string;
}

export interface ScenarioResult {
  key: string;
  name: string;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the process serving the scenario (the host, the bare server, or the stand-in for its own floor). */
  cpuMsPerRequest: number;
  /** CPU of the stand-in per request (for the floors served by the stand-in itself: the same as cpuMsPerRequest). */
  sidecarCpuMsPerRequest: number;
  /** State API calls the stand-in received, per request. */
  sidecarCallsPerOp: number;
  failed: number;
  /** Answers without the expected header value (e.g. `x-cache: MISS`), when the scenario names one. */
  unexpected: number;
  /** What those answers carried instead, by value. */
  unexpectedValues: Record<string, number>;
}

export interface HttpScenario {
  key: string;
  name: string;
  serving: 'host' | 'bare' | 'sidecar';
  /** Answers that may fail (non-2xx or errors), as a share of all; default 0. */
  allowedFailedShare?: number;
  setup?(stack: Stack, results: ReadonlyMap<string, ScenarioResult>): Promise<void>;
  /** The requests, in order per connection; fresh state (counters) for every call. */
  requests(stack: Stack): { url: string; requests: autocannon.Request[] };
  /** The number of requests, with no warm-up: for requests that can be made only once. Default: what fits in BENCH_SECONDS. */
  amount?(stack: Stack, results: ReadonlyMap<string, ScenarioResult>): number;
  /** Measured in the first round only (its requests can be made only once, and its setup is costly). */
  once?: boolean;
  /** Every answer must carry this header value (lower-case name; checked on all of them). */
  expectHeader?: { name: string; value: string };
}

export const CONNECTIONS = 10;
/** Seconds per scenario and round: BENCH_SECONDS, default 3. */
export const benchSeconds = (): number => Number(process.env.BENCH_SECONDS ?? 3);
const WARM_UP_SECONDS = 1;

interface Journal {
  total: number;
  stateCalls: number;
  counts: Record<string, number>;
}

/** The stand-in's call journal (dev/sidecar/call-journal.ts): read, or reset. */
export async function sidecarJournal(stack: Stack, reset = false): Promise<Journal> {
  const response = await fetch(`${stack.sidecarUrl}/_standin/calls`, { method: reset ? 'DELETE' : 'GET' });
  if (reset) {
    await response.arrayBuffer();
    return { total: 0, stateCalls: 0, counts: {} };
  }
  return (await response.json()) as Journal;
}

function cpuSnapshot(stack: Stack): Record<'host' | 'bare' | 'sidecar', number> {
  return { host: cpuMs(stack.host.pid), bare: cpuMs(stack.bare.pid), sidecar: cpuMs(stack.sidecar.pid) };
}

/** Requests per measured run of each scenario, from its first round's warm-up. */
const amounts = new Map<string, number>();

/**
 * Runs one scenario once: on its first round the setup and a short warm-up, then the measured run
 * with CPU and sidecar calls counted around it.
 */
export async function runHttpScenario(
  scenario: HttpScenario,
  stack: Stack,
  seconds: number,
  results: ReadonlyMap<string, ScenarioResult>,
): Promise<ScenarioResult> {
  const firstRound = !amounts.has(scenario.key);
  if (firstRound || scenario.once) await scenario.setup?.(stack, results);
  let unexpected = 0;
  const unexpectedValues = new Map<string, number>();
  const expected = scenario.expectHeader;
  const load = () => {
    const { url, requests } = scenario.requests(stack);
    if (!expected) return { url, requests };
    const checked = requests.map((request) => ({
      ...request,
      onResponse: (_status: number, _body: string, _context: object, headers: autocannon.Request['headers']) => {
        const value = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === expected.name)?.[1];
        if (value === expected.value) return;
        unexpected += 1;
        const seen = String(value ?? 'none');
        unexpectedValues.set(seen, (unexpectedValues.get(seen) ?? 0) + 1);
      },
    }));
    return { url, requests: checked };
  };
  // A fixed number of requests, so none is in flight when the run ends and calls per request are
  // exact: as many as the warm-up's rate suggests fit in `seconds`.
  let amount = scenario.amount?.(stack, results) ?? amounts.get(scenario.key);
  if (amount === undefined) {
    const warmUp = await autocannon({ ...load(), connections: CONNECTIONS, duration: WARM_UP_SECONDS });
    amount = Math.max(CONNECTIONS * 10, Math.round(warmUp.requests.total / warmUp.duration) * seconds);
    await quiesce(stack, warmUp.latency.max);
  }
  amounts.set(scenario.key, amount);
  unexpected = 0;
  unexpectedValues.clear();

  await sidecarJournal(stack, true);
  const before = cpuSnapshot(stack);
  const started = performance.now();
  const result = await autocannon({ ...load(), connections: CONNECTIONS, amount });
  const elapsedSeconds = (performance.now() - started) / 1000;
  const after = cpuSnapshot(stack);
  const journal = await sidecarJournal(stack);

  const requests = result.requests.total;
  const perRequest = (ms: number) => (requests > 0 ? ms / requests : Number.NaN);
  return {
    key: scenario.key,
    name: scenario.name,
    requests,
    rps: requests / elapsedSeconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    cpuMsPerRequest: perRequest(after[scenario.serving] - before[scenario.serving]),
    sidecarCpuMsPerRequest: perRequest(after.sidecar - before.sidecar),
    sidecarCallsPerOp: perRequest(journal.stateCalls),
    failed: result.non2xx + result.errors,
    unexpected,
    unexpectedValues: Object.fromEntries(unexpectedValues),
  };
}

/**
 * Waits until the stand-in has seen no call for a while: requests the warm-up left in flight
 * (autocannon drops them at its deadline) must not be counted in the measured run.
 */
async function quiesce(stack: Stack, slowestMs: number): Promise<void> {
  const quietMs = Math.min(2000, Math.max(100, slowestMs));
  const deadline = performance.now() + 10_000;
  let last = -1;
  for (;;) {
    const { total } = await sidecarJournal(stack);
    if (total === last || performance.now() > deadline) return;
    last = total;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}

/**
 * One result from a scenario's rounds. A busy neighbour only ever slows a run down and inflates
 * its CPU per request, so each figure is the best round's (the rounds are interleaved, so a
 * quiet moment is found for every scenario); calls and failures add up over all rounds.
 */
export function bestOf(rounds: ScenarioResult[]): ScenarioResult {
  const [first, ...rest] = rounds;
  if (!first) throw new Error('no rounds');
  const fastest = rest.reduce((best, r) => (r.rps > best.rps ? r : best), first);
  const sum = (pick: (r: ScenarioResult) => number) => rounds.reduce((total, r) => total + pick(r), 0);
  const unexpectedValues: Record<string, number> = {};
  for (const r of rounds)
    for (const [value, n] of Object.entries(r.unexpectedValues)) unexpectedValues[value] = (unexpectedValues[value] ?? 0) + n;
  const requests = sum((r) => r.requests);
  return {
    ...fastest,
    requests,
    cpuMsPerRequest: Math.min(...rounds.map((r) => r.cpuMsPerRequest)),
    sidecarCpuMsPerRequest: Math.min(...rounds.map((r) => r.sidecarCpuMsPerRequest)),
    sidecarCallsPerOp: sum((r) => r.sidecarCallsPerOp * r.requests) / requests,
    failed: sum((r) => r.failed),
    unexpected: sum((r) => r.unexpected),
    unexpectedValues,
  };
}
