import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listenOrExplain, parsePort, runMain, stopOnSignals } from './cli.js';
import { describeFunctions, startHost } from './host/host.js';
import { applyLocalSettings, readSettingsFile, requestBodySizeLimitSetting, routePrefixFromHostJson } from './host/settings.js';
import { loadStateComponents, startSidecar } from './sidecar/server.js';

/**
 * `npm start`: the Dapr state API stand-in and the Functions host together, the local equivalent
 * of `dapr run --app-id state-api --resources-path ./components -- func start`.
 */
const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const usage = `Usage: npm start -- [options]
  The Dapr state API stand-in and the Functions host serving ./functions, like
  \`dapr run --app-id state-api -- func start\`.

Options:
  --port <n>          Functions host port (default 7071; 0 = any free port)
  --dapr-port <n>     Dapr state API stand-in port (default 3500; 0 = any free port)
  --app-id <id>       Dapr app id, the key prefix of every state key (default state-api)
  --components <dir>  Dapr component files (default ./components)
  --backends <kind>   memory (default) or real: the stand-in on Redis/PostgreSQL from the components
  -h, --help          Show this help

Settings come from the environment, then local.settings.json "Values" (as with func start);
${requestBodySizeLimitSetting} falls back to local.settings.example.json.`;

/** The host's body limit for the app when nothing sets it: the value the deployment uses. */
function applyExampleBodyLimit(): void {
  if (process.env[requestBodySizeLimitSetting] !== undefined) return;
  const example = readSettingsFile(resolve(projectRoot, 'local.settings.example.json'));
  const limit = example?.[requestBodySizeLimitSetting];
  if (limit !== undefined) process.env[requestBodySizeLimitSetting] = limit;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7071' },
      'dapr-port': { type: 'string', default: '3500' },
      'app-id': { type: 'string', default: 'state-api' },
      components: { type: 'string', default: resolve(projectRoot, 'components') },
      backends: { type: 'string', default: 'memory' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const backends = values.backends;
  if (backends !== 'memory' && backends !== 'real') throw new Error(`--backends must be memory or real, not ${backends}`);
  const port = parsePort(values.port);
  const daprPort = parsePort(values['dapr-port'], '--dapr-port');
  applyLocalSettings(projectRoot);
  applyExampleBodyLimit();
  const components = await loadStateComponents(resolve(values.components));
  const sidecar = await listenOrExplain('--dapr-port', daprPort, () =>
    startSidecar({ port: daprPort, appId: values['app-id'], components, backends }),
  );

  // The app reads its settings when the function files load: point it at this sidecar first.
  process.env.DAPR_HOST = '127.0.0.1';
  process.env.DAPR_HTTP_PORT = String(sidecar.port);
  if (!process.env.AUTH_MODE) process.env.AUTH_MODE = 'trusted-header';

  const manifest = JSON.parse(await readFile(resolve(projectRoot, 'package.json'), 'utf8'));
  const host = await listenOrExplain('--port', port, () =>
    startHost({ port, functionFiles: [resolve(projectRoot, manifest.main)], routePrefix: routePrefixFromHostJson(projectRoot) }),
  ).catch(async (error: unknown) => {
    await sidecar.close();
    throw error;
  });

  const base = `http://localhost:${host.port}`;
  const where = (c: (typeof components)[number]) =>
    backends === 'memory' ? 'in memory' : c.type === 'state.redis' ? `on Redis ${c.metadata.redisHost}` : 'on PostgreSQL';
  console.log(`\nDapr state API stand-in: ${sidecar.url}/v1.0 (${components.map((c) => `${c.name} ${where(c)}`).join(', ')})`);
  console.log(`Functions host:          ${base}/api (AUTH_MODE=${process.env.AUTH_MODE})`);
  console.log(describeFunctions(host, base));
  console.log(`\nTry: curl ${base}/api/health\nCtrl-C stops both.\n`);

  stopOnSignals('the host and the stand-in', async () => {
    await host.close();
    await sidecar.close();
  });
}

runMain('npm start', main);
