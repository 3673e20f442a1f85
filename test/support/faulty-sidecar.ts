import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A sidecar that answers its readiness probe (`/v1.0/metadata`) and then, for state calls, either
 * never answers or drops the connection mid-request.
 */
export async function startFaultySidecar(mode: 'hang' | 'reset'): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.url?.startsWith('/v1.0/metadata')) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"state-api"}');
      return;
    }
    request.resume();
    if (mode === 'reset') request.on('end', () => request.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
