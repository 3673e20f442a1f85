import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStateComponents, startSidecar } from './server.js';

const USAGE = 'usage: main [--port 3500] [--app-id state-api] [--components ./components]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3500' },
      'app-id': { type: 'string', default: 'state-api' },
      components: { type: 'string', default: './components' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}\n${USAGE}`);

  const componentsDir = resolve(values.components);
  const components = await loadStateComponents(componentsDir);
  const sidecar = await startSidecar({ port, appId: values['app-id'], components });
  const names = components.map((c) => `${c.name} (${c.type})`).join(', ') || 'none';
  console.log(`Dapr state API stand-in for app '${values['app-id']}' listening on ${sidecar.url}`);
  console.log(`state stores from ${componentsDir}: ${names}`);

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`${signal} received, stopping`);
    sidecar.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
