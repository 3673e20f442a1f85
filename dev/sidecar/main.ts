import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePort, runMain, stopOnSignals } from '../cli.js';
import { loadStateComponents, startSidecar } from './server.js';

/** `node dist/dev/sidecar/main.js [--port 3500] [--app-id state-api] [--components ./components]` */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3500' },
      'app-id': { type: 'string', default: 'state-api' },
      components: { type: 'string', default: './components' },
    },
  });
  const port = parsePort(values.port);

  const componentsDir = resolve(values.components);
  const components = await loadStateComponents(componentsDir);
  const sidecar = await startSidecar({ port, appId: values['app-id'], components });
  const names = components.map((c) => `${c.name} (${c.type})`).join(', ') || 'none';
  console.log(`Dapr state API stand-in for app '${values['app-id']}' listening on ${sidecar.url}`);
  console.log(`state stores from ${componentsDir}: ${names}`);

  stopOnSignals('the stand-in', () => sidecar.close());
}

runMain('stand-in', main);
