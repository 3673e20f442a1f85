import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { projectRoot } from './stack.js';

export interface HostProcess {
  /** `http://localhost:PORT/api` */
  api: string;
  stop(): Promise<void>;
}

/**
 * A separate app instance: the Functions host in its own Node process, serving the real function
 * files on a free port, configured by `settings` like any deployment.
 */
export async function spawnHostProcess(settings: Record<string, string>): Promise<HostProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'dev/host/main.ts', '--port', '0', '--functions', `${projectRoot}functions/*.ts`],
    {
      cwd: projectRoot,
      env: { ...process.env, AUTH_MODE: 'trusted-header', LOG_LEVEL: 'silent', ...settings },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const deadline = Date.now() + 20_000;
  let port: string | undefined;
  for (;;) {
    port = /http:\/\/localhost:(\d+)\/api\//.exec(output)?.[1];
    if (port) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`host process did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    api: `http://localhost:${port}/api`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
