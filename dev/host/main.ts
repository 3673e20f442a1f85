import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeFunctions, startHost, type Host } from './host.js';

const usage = `Usage: host [--port 7071] [--host 127.0.0.1] [--functions <glob>]...
  --functions defaults to the "main" glob of ./package.json.`;

async function defaultFunctionsGlob(): Promise<string> {
  const manifest = JSON.parse(await readFile(resolve('package.json'), 'utf8')) as { main?: unknown };
  if (typeof manifest.main !== 'string') throw new Error('package.json has no "main" glob; pass --functions');
  return manifest.main;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid --port '${text}'`);
  return port;
}

function stopOnSignals(host: Host): void {
  const stop = (signal: NodeJS.Signals): void => {
    process.stdout.write(`Received ${signal}, stopping the host\n`);
    host.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      }
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
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
  stopOnSignals(host);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
