import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The functions with the most self time in a V8 CPU profile (`node --cpu-prof`, e.g. the host's
 * under BENCH_CPU_PROF), and the same summed per package or project folder.
 *
 * `node dist-bench/bench/profile-top.js <file.cpuprofile> [how many, default 25] [last seconds only]`
 * The last argument keeps only the samples of the profile's final seconds (the measured run, not
 * the start-up); shares are of the time the process was not idle.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, count = '25', lastSeconds] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top <file.cpuprofile> [how many] [last seconds]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));

/** Sample time (µs) per node, from the samples in the window. */
const selfMicros = new Map<number, number>();
const from = lastSeconds === undefined ? Number.NEGATIVE_INFINITY : profile.endTime - Number(lastSeconds) * 1e6;
let time = profile.startTime;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  time += delta;
  if (time >= from) selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
});
const isIdle = (node: ProfileNode) => node.callFrame.functionName === '(idle)';
let busyMicros = 0;
for (const [id, micros] of selfMicros) if (!isIdle(nodeById.get(id) as ProfileNode)) busyMicros += micros;

const where = (url: string) => {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
};
/** node_modules/<package>, a project folder (dist-bench/shared/state → shared/state), node: internals, or V8's own entries. */
const area = (url: string) => {
  const path = where(url);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1] ?? path;
  if (path.startsWith('node:')) return 'node internals';
  if (!path) return '(V8: gc, idle, program, native)';
  return (
    path
      .replace(/^dist(-bench)?\//, '')
      .split('/')
      .slice(0, -1)
      .join('/') || path
  );
};

const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
for (const [id, hits] of selfMicros) {
  const node = nodeById.get(id);
  if (!node || isIdle(node)) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url ? `${where(url)}:${lineNumber + 1}` : ''}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
  byArea.set(area(url), (byArea.get(area(url)) ?? 0) + hits);
}
const print = (title: string, rows: Map<string, number>, limit: number) => {
  process.stdout.write(`${title}\n`);
  for (const [name, micros] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    const share = ((100 * micros) / Math.max(1, busyMicros)).toFixed(1).padStart(5);
    process.stdout.write(`${share}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}\n`);
  }
};
process.stdout.write(`busy (not idle): ${(busyMicros / 1000).toFixed(0)} ms\n`);
print('self time by function', byFunction, Number(count));
print('\nself time by package / folder', byArea, 20);
