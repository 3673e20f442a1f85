import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** Whether a `redis-server` binary is on this machine (CI has one). */
export function hasRedisServerBinary(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/**
 * A private Redis on its own port, so a test can stop and restart it without touching the shared
 * one other suites use.
 */
export class PrivateRedis {
  #process: ChildProcess | undefined;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.#process = child;
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += String(chunk);
    });
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/i.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Pauses (`SIGSTOP`) or resumes (`SIGCONT`) the server: connections stay open, nothing answers. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    const child = this.#process;
    if (!child || exited(child)) throw new Error('redis-server is not running');
    child.kill(signal);
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || exited(child)) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}

/** A child killed by a signal keeps `exitCode` null: its `signalCode` says it is gone. */
function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
