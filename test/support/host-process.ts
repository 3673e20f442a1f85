import { startProcess } from './process.js';
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
  const host = await startProcess(
    ['--import', 'tsx', 'dev/host/main.ts', '--port', '0', '--functions', `${projectRoot}functions/*.ts`],
    { AUTH_MODE: 'trusted-header', LOG_LEVEL: 'silent', ...settings },
    /http:\/\/localhost:\d+\/api\//,
  );
  const port = /http:\/\/localhost:(\d+)\/api\//.exec(host.output())?.[1];
  return {
    api: `http://localhost:${port}/api`,
    async stop() {
      await host.stop('SIGTERM');
    },
  };
}
