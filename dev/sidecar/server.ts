import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiError, malformedRequest, routeNotFound } from './api-errors.js';
import type { StateBackend } from './backend.js';
import type { ComponentSpec } from './components.js';
import { keyMapperFor } from './key-prefix.js';
import { CallJournal } from './call-journal.js';
import { MemoryBackend } from './memory-backend.js';
import { MemoryPostgresBackend } from './memory-postgres-backend.js';
import { PostgresBackend, postgresSettings } from './postgres-backend.js';
import { RedisBackend, redisSettings } from './redis-backend.js';
import { StateApi, type Reply, type StateCall, type Store } from './state-api.js';

export { loadStateComponents } from './components.js';
export type { ComponentSpec } from './components.js';

export interface BackendContext {
  now: () => number;
}

/** Chooses the backend that serves one component. */
export type BackendFactory = (component: ComponentSpec, context: BackendContext) => StateBackend | Promise<StateBackend>;

export interface SidecarOptions {
  /** 0 or omitted = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  appId: string;
  /** Used by `keyPrefix: namespace`; without it that strategy behaves like `appid`. */
  namespace?: string;
  components: ComponentSpec[];
  now?: () => number;
  /**
   * `memory` (default): every store in memory, with its component's semantics. `real`: each store on
   * the server its component names (`state.redis` → Redis, `state.postgresql` v2 → PostgreSQL), in
   * Dapr's own storage layout.
   */
  backends?: 'memory' | 'real';
  /** Overrides `backends`; tests pass their own to inspect what was stored or to inject outages. */
  createBackend?: BackendFactory;
}

export interface Sidecar {
  port: number;
  url: string;
  /** Every request the stand-in received (counts, and the latest few in full); see call-journal.ts. */
  journal: CallJournal;
  /** Stops listening and ends open connections; calling it again waits for the same close. */
  close(): Promise<void>;
}

const RUNTIME_VERSION = 'local-stand-in';

/** In memory, each component with its own semantics (an unknown type gets Redis semantics). */
export const memoryBackends: BackendFactory = (component, { now }) =>
  component.type === 'state.postgresql' ? new MemoryPostgresBackend({ now }) : new MemoryBackend({ now });

export const realBackends: BackendFactory = (component) => {
  if (component.type === 'state.redis') return RedisBackend.connect(redisSettings(component));
  if (component.type === 'state.postgresql' && component.version === 'v2') {
    return PostgresBackend.connect(postgresSettings(component));
  }
  throw new Error(`component ${component.name}: ${component.type} ${component.version} is not served by the stand-in`);
};

/** Starts the stand-in for daprd's HTTP API (state, metadata, healthz) on `/v1.0`. */
export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const stores = await buildStores(options);
  const journal = new CallJournal();
  const router = new Router(options.appId, stores, journal);
  const server = createServer((req, res) => void router.handle(req, res));
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port ?? 0, host);
  const port = boundPort(server);
  let closing: Promise<void> | undefined;
  return {
    port,
    journal,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => {
      closing ??= closeSidecar(server, stores);
      return closing;
    },
  };
}

async function buildStores(options: SidecarOptions): Promise<Map<string, Store>> {
  const factory = options.createBackend ?? (options.backends === 'real' ? realBackends : memoryBackends);
  const context: BackendContext = { now: options.now ?? Date.now };
  const keyContext = { appId: options.appId, ...(options.namespace ? { namespace: options.namespace } : {}) };
  const stores = new Map<string, Store>();
  try {
    for (const component of options.components) {
      const mapKey = keyMapperFor(component, keyContext);
      stores.set(component.name, { component, backend: await factory(component, context), mapKey });
    }
  } catch (error) {
    await Promise.all([...stores.values()].map(({ backend }) => backend.close()));
    throw error;
  }
  return stores;
}

function boundPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('sidecar stand-in is not listening on TCP');
  return address.port;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function closeSidecar(server: Server, stores: ReadonlyMap<string, Store>): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  // Keep-alive sockets (the Dapr SDK's agents hold them) would otherwise keep close() pending.
  server.closeAllConnections();
  await closed;
  await Promise.all([...stores.values()].map(({ backend }) => backend.close()));
}

class Router {
  readonly #state: StateApi;

  constructor(
    private readonly appId: string,
    private readonly stores: ReadonlyMap<string, Store>,
    private readonly journal: CallJournal,
  ) {
    this.#state = new StateApi(stores);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    if (req.url?.startsWith(CallJournal.path)) {
      reply = this.journal.answer(req.method ?? 'GET');
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
      return;
    }
    this.journal.record(req.method ?? 'GET', req.url ?? '/', singleHeader(req.headers.traceparent));
    try {
      reply = await this.#route(req);
    } catch (error) {
      reply = errorReply(error);
    }
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  }

  async #route(req: IncomingMessage): Promise<Reply> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sidecar');
    const [version, area, ...rest] = url.pathname.split('/').slice(1).map(decodeSegment);
    const isWrite = method === 'POST' || method === 'PUT';

    if (version === 'v1.0' && method === 'GET') {
      if (area === 'healthz' && (rest.length === 0 || (rest.length === 1 && rest[0] === 'outbound'))) {
        return { status: 204 };
      }
      if (area === 'metadata' && rest.length === 0) return this.#metadata();
    }
    if (version === 'v1.0' && area === 'state') {
      const [store, key, ...extra] = rest;
      const call: StateCall = { store: store ?? '', query: url.searchParams, readBody: () => readBody(req) };
      if (store && key === undefined && isWrite) return this.#state.save(call);
      if (store && key && extra.length === 0) {
        // As in daprd's router, `bulk` and `transaction` are only special for POST/PUT.
        if (key === 'bulk' && isWrite) return this.#state.bulkGet(call);
        if (key === 'transaction' && isWrite) return this.#state.transaction(call);
        if (method === 'GET') return this.#state.get(call, key);
        if (method === 'DELETE') return this.#state.delete(call, key, singleHeader(req.headers['if-match']));
      }
    }
    throw routeNotFound(method, url.pathname);
  }

  #metadata(): Reply {
    const components = [...this.stores.values()].map(({ component, backend }) => ({
      name: component.name,
      type: component.type,
      version: component.version,
      capabilities: [...backend.capabilities],
    }));
    const body = {
      id: this.appId,
      runtimeVersion: RUNTIME_VERSION,
      enabledFeatures: [],
      actors: [],
      components,
      extended: { daprRuntimeVersion: RUNTIME_VERSION },
      subscriptions: [],
      httpEndpoints: [],
      actorRuntime: { runtimeStatus: 'DISABLED', activeActors: [], hostReady: false, placement: '' },
    };
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw malformedRequest(`invalid URL path segment: ${segment}`);
  }
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function errorReply(error: unknown): Reply {
  const apiError =
    error instanceof ApiError ? error : new ApiError(500, 'ERR_INTERNAL', 'internal error in the sidecar stand-in');
  if (!(error instanceof ApiError)) console.error('sidecar stand-in: unexpected error', error);
  return { status: apiError.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(apiError) };
}
