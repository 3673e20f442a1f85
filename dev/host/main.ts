import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { listenOrExplain, parsePort, runMain, stopOnSignals } from '../cli.js';
import { describeFunctions, startHost } from './host.js';
import { applyLocalSettings, routePrefixFromHostJson } from './settings.js';

const usage = `Usage: host [--port 7071] [--host 127.0.0.1] [--functions <glob>]...
  --port       port to listen on (default 7071; 0 = any free port)
  --host       address to listen on (default 127.0.0.1)
  --functions  function files (default: the "main" glob of ./package.json)
  Settings come from the environment, then ./local.settings.json "Values", like func start.`;

async function defaultFunctionsGlob(): Promise<string> {
  const manifest = JSON.parse(await readFile(resolve('package.json'), 'utf8')) as { main?: unknown };
  if (typeof manifest.main !== 'string') throw new Error('package.json has no "main" glob; pass --functions');
  return manifest.main;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7071' },
      host: { type: 'string', default: '127.0.0.1' },
      functions: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const functionFiles = values.functions ?? [await defaultFunctionsGlob()];
  const port = parsePort(values.port);
  applyLocalSettings(process.cwd());
  const host = await listenOrExplain('--port', port, () =>
    startHost({ port, host: values.host, functionFiles, routePrefix: routePrefixFromHostJson(process.cwd()) }),
  );
  const base = values.host === '127.0.0.1' ? `http://localhost:${host.port}` : host.url;
  process.stdout.write(`${describeFunctions(host, base)}\n`);
  stopOnSignals('the host', () => host.close());
}

runMain('host', main);
