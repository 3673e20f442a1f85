import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { connectDaprSidecar } from '../shared/state/dapr-state-store.js';

/**
 * A floor for the benchmark: a bare node:http server, no Functions layer and none of our code.
 * `GET /noop` answers at once; `GET /sdk` makes the call a history fetch makes (one bulk get of one
 * key through the same DaprClient set-up as the app, shared/state/dapr-state-store.ts) and answers
 * with what it read. Its CPU per request minus /noop's is what the @dapr/dapr call alone costs.
 *
 * `node dist-bench/bench/bare-server.js --port P` with DAPR_HOST and DAPR_HTTP_PORT set.
 */
const { values } = parseArgs({ options: { port: { type: 'string' }, key: { type: 'string', default: 'bench:bare' } } });
const sidecar = connectDaprSidecar({ host: process.env.DAPR_HOST ?? '127.0.0.1', httpPort: Number(process.env.DAPR_HTTP_PORT ?? 3500) });
await sidecar.whenReady();
const key = values.key;

const server = createServer((req, res) => {
  if (req.url === '/noop') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  if (req.url === '/sdk') {
    sidecar.client.state.getBulk('statestore', [key]).then(
      (items) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(items)),
      () => res.writeHead(503).end(),
    );
    return;
  }
  res.writeHead(404).end();
});
server.listen(Number(values.port ?? 0), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void sidecar.close().finally(() => process.exit(0));
});
