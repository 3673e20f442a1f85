import { connectDaprSidecar, createDaprStateStore } from '../shared/state/dapr-state-store.js';
import { type ScenarioResult, type Stack, sidecarJournal } from './measure.js';
import { cpuMs } from './processes.js';

const KEYS = 100;

/**
 * 100 keys read with one bulk get vs 100 gets one after another, through the app's own adapter
 * (shared/state/dapr-state-store.ts) in this process against the stand-in, one operation at a time.
 * An operation is the read of all 100 keys; the bench process is the serving process here.
 */
export async function runBulkComparison(stack: Stack, seconds: number): Promise<ScenarioResult[]> {
  const port = Number(new URL(stack.sidecarUrl).port);
  const sidecar = connectDaprSidecar({ host: '127.0.0.1', httpPort: port });
  try {
    const store = createDaprStateStore(sidecar, 'statestore', { timeoutMs: 5000 });
    const keys = Array.from({ length: KEYS }, (_, i) => `bench:bulk:${i}`);
    await store.saveBulk(keys.map((key, i) => ({ key, value: { i, text: `value ${i}` }, options: { mode: 'overwrite' } })));
    const bulk = async () => {
      const entries = await store.getBulk(keys);
      if (entries.some((e) => e.entry === null)) throw new Error('bulk get: a key is missing');
    };
    const sequential = async () => {
      for (const key of keys) if ((await store.get(key)) === null) throw new Error(`get ${key}: missing`);
    };
    return [
      await measureLoop(stack, 'bulk-get-100', `in-process: getBulk of ${KEYS} keys`, bulk, seconds),
      await measureLoop(stack, 'sequential-get-100', `in-process: ${KEYS} gets one after another`, sequential, seconds),
    ];
  } finally {
    await sidecar.close();
  }
}

async function measureLoop(
  stack: Stack,
  key: string,
  name: string,
  operation: () => Promise<void>,
  seconds: number,
): Promise<ScenarioResult> {
  const warmUntil = performance.now() + 500;
  while (performance.now() < warmUntil) await operation();

  await sidecarJournal(stack, true);
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const sidecarBefore = cpuMs(stack.sidecar.pid);
  const started = performance.now();
  const until = started + seconds * 1000;
  let failed = 0;
  while (performance.now() < until) {
    const t = performance.now();
    try {
      await operation();
      latencies.push(performance.now() - t);
    } catch {
      failed += 1;
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sidecarCpu = cpuMs(stack.sidecar.pid) - sidecarBefore;
  const calls = (await sidecarJournal(stack)).stateCalls;
  const ops = latencies.length + failed;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? Number.NaN;
  return {
    key,
    name,
    requests: ops,
    rps: ops / elapsed,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / ops,
    sidecarCpuMsPerRequest: sidecarCpu / ops,
    sidecarCallsPerOp: calls / ops,
    failed,
    unexpected: 0,
    unexpectedValues: {},
  };
}
