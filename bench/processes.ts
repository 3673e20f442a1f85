import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The project folder (this file runs from dist-bench/bench/). */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The compiled tree the benchmark runs: functions, shared, dev and bench, built by bench/tsconfig.json. */
export const compiledRoot = fileURLToPath(new URL('..', import.meta.url));

export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** When `spawn` was called (performance.now()). */
  readonly spawnedAt: number;
  /** What it wrote to stderr (the last 4 KiB), for error messages. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned; the race is harmless here). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/**
 * `node <script> <args>` in the project folder. stdout goes nowhere (the host logs two lines per
 * request, the cost stays in its CPU time without the benchmark having to read them).
 */
export function startNode(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  nodeFlags: string[] = [],
): BenchProcess {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + String(chunk)).slice(-4096);
  });
  const { pid } = child;
  if (pid === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    pid,
    child,
    spawnedAt,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `url` every `intervalMs` until it answers 200; resolves with performance.now() at that
 * answer. Fails when the process exits or `timeoutMs` passes.
 */
export async function waitFor200(proc: BenchProcess, url: string, intervalMs = 10, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${proc.stderr()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${proc.name}: no 200 from ${url} within ${timeoutMs} ms:\n${proc.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, nearly always 100). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time a process has used so far, in ms (from /proc/<pid>/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / ticksPerSecond();
}

/** Resident memory of a process, in MiB (VmRSS from /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}
