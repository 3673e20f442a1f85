import { fileURLToPath } from 'node:url';
import { startHost, type Host } from '../../dev/host/host.js';
import { loadStateComponents, startSidecar, type Sidecar, type SidecarOptions } from '../../dev/sidecar/server.js';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
export const componentsDir = fileURLToPath(new URL('../../components', import.meta.url));

export interface Stack {
  sidecar: Sidecar;
  host: Host;
  /** `http://127.0.0.1:PORT/api` */
  api: string;
  close(): Promise<void>;
}

/**
 * The whole local runtime in this test process: a sidecar stand-in on a free port and the
 * Functions host serving the real function files, configured through the environment exactly
 * as `npm start` configures it. Settings are read when the function files load, so a test file
 * gets one stack (vitest runs every test file in its own process).
 */
export async function startStack(settings: Record<string, string> = {}, sidecarOptions: Partial<SidecarOptions> = {}): Promise<Stack> {
  const sidecar = await startSidecar({
    appId: 'state-api',
    components: await loadStateComponents(componentsDir),
    ...sidecarOptions,
  });
  Object.assign(process.env, {
    AUTH_MODE: 'trusted-header',
    LOG_LEVEL: 'silent',
    DAPR_HOST: '127.0.0.1',
    DAPR_HTTP_PORT: String(sidecar.port),
    DAPR_TIMEOUT_MS: '1000',
    ...settings,
  });
  const host = await startHost({ functionFiles: [`${projectRoot}functions/*.ts`], logger: silentHostLogger });
  return {
    sidecar,
    host,
    api: `${host.url}/api`,
    async close() {
      await host.close();
      await sidecar.close();
    },
  };
}

const silentHostLogger = { info() {}, warn() {}, error() {} };
