import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiError, bodyReadFailed, noRoute } from './api-errors.js';
import type { StateBackend } from './backend.js';
import type { ComponentSpec } from './components.js';
import { keyMapperFor } from './key-prefix.js';
import { CallJournal } from './call-journal.js';
import { MemoryBackend } from './memory-backend.js';
import { MemoryPostgresBackend } from './memory-postgres-backend.js';
import { PostgresBackend, postgresSettings } from './postgres-backend.js';
import { RedisBackend, redisSettings } from './redis-backend.js';
import { routeParam, routeSegments } from './route-path.js';
import { RuntimeApi } from './runtime-api.js';
import { traceHeaders } from './trace-headers.js';
import { BodyTooLarge, bodyOf, MAX_BODY_BYTES, StateApi, type Reply, type StateCall, type Store } from './state-api.js';

export { loadStateComponents } from './components.js';
export { COMPONENTS_CONTRIB_VERSION, DAPRD_VERSION } from './daprd-release.js';
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

/** Starts the stand-in for daprd's HTTP API (state, state query, metadata, healthz), as daprd 1.16.4 answers it. */
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
  readonly #runtime: RuntimeApi;

  constructor(
    appId: string,
    stores: ReadonlyMap<string, Store>,
    private readonly journal: CallJournal,
  ) {
    this.#state = new StateApi(stores, appId);
    this.#runtime = new RuntimeApi(appId, stores);
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
    // Go refuses an undecodable path before daprd's tracing sees the request.
    const path = decodedPath(req.url ?? '/');
    res.writeHead(reply.status, { ...reply.headers, ...(path === undefined ? {} : traceHeaders(path, req.headers)) });
    res.end(reply.body);
  }

  /** daprd's routes for the APIs the stand-in serves; anything else gets daprd's fallback answer. */
  async #route(req: IncomingMessage): Promise<Reply> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const segments = routeSegments(queryAt === -1 ? target : target.slice(0, queryAt));
    // Go's server refuses a malformed escape before any route sees it.
    if (segments === undefined) return { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '400 Bad Request' };
    const query = new URL(target, 'http://sidecar').searchParams;
    const [version, area, ...rest] = segments;
    const isWrite = method === 'POST' || method === 'PUT';
    const readBody = () => readRequestBody(req);

    if (version === 'v1.0' && area === 'healthz' && method === 'GET') {
      if (rest.length === 0) return this.#runtime.healthz(query);
      if (rest.length === 1 && rest[0] === 'outbound') return { status: 204 };
    }
    if (version === 'v1.0' && area === 'metadata') {
      if (rest.length === 0 && method === 'GET') return this.#runtime.metadata();
      if (rest.length === 1 && method === 'PUT')
        return this.#runtime.setMetadata(routeParam(rest[0] ?? ''), await bodyOf(readBody, bodyReadFailed));
    }
    if (area === 'state' && (version === 'v1.0' || version === 'v1.0-alpha1')) {
      const [storeSegment, keySegment, ...extra] = rest;
      if (storeSegment === undefined || extra.length > 0) throw noRoute();
      const call: StateCall = { store: routeParam(storeSegment), query, readBody };
      if (version === 'v1.0-alpha1') {
        if (keySegment === 'query' && isWrite) return this.#state.query(call);
        throw noRoute();
      }
      if (keySegment === undefined) {
        if (isWrite) return this.#state.save(call);
        throw noRoute();
      }
      // As in daprd's router, `bulk` and `transaction` are only special for POST/PUT.
      if (keySegment === 'bulk' && isWrite) return this.#state.bulkGet(call);
      if (keySegment === 'transaction' && isWrite) return this.#state.transaction(call);
      const key = routeParam(keySegment);
      if (method === 'GET') return this.#state.get(call, key);
      if (method === 'DELETE') return this.#state.delete(call, key, singleHeader(req.headers['if-match']));
    }
    throw noRoute();
  }
}

/** The path as Go decodes it (`r.URL.Path`); `undefined` when it cannot be decoded. */
function decodedPath(target: string): string | undefined {
  try {
    return decodeURIComponent(target.split('?')[0] ?? '');
  } catch {
    return undefined;
  }
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Reads the whole body, but keeps no more than daprd would accept (the rest is drained and dropped). */
function readRequestBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function errorReply(error: unknown): Reply {
  const apiError = error instanceof ApiError ? error : new ApiError(500, 'ERR_INTERNAL', 'internal error in the sidecar stand-in');
  if (!(error instanceof ApiError)) console.error('sidecar stand-in: unexpected error', error);
  return { status: apiError.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(apiError) };
}
