import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePort, runMain, stopOnSignals } from '../cli.js';
import { describeFunctions, startHost } from './host.js';

const usage = `Usage: host [--port 7071] [--host 127.0.0.1] [--functions <glob>]...
  --functions defaults to the "main" glob of ./package.json.`;

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
  const host = await startHost({ port: parsePort(values.port), host: values.host, functionFiles });
  const base = values.host === '127.0.0.1' ? `http://localhost:${host.port}` : host.url;
  process.stdout.write(`${describeFunctions(host, base)}\n`);
  stopOnSignals('the host', () => host.close());
}

runMain('host', main);
