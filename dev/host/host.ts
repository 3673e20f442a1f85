import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { glob, isDynamicPattern } from 'tinyglobby';
import { getProgrammingModel, getRegistrations, installCoreShim, setCoreLogger, type Registration } from './core-shim.js';
import type { ProgrammingModel, RpcBindingInfo } from './core-types.js';
import { invokeHttpFunction, runHooks, type InvocationEnvironment } from './invoke.js';
import { consoleLogger, type HostLogger } from './log.js';
import { requestBodySizeLimit } from './settings.js';
import { compareRoutePrecedence, compileRoute, fullRouteTemplate, splitPath, type CompiledRoute, type RouteParams } from './routes.js';
import { PayloadTooLargeError, RequestAbortedError, readBody, sendEmpty, toHttpTriggerInput, writeHttpResponse } from './rpc-http.js';

export interface HostOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Absolute paths or glob patterns (resolved against the current directory). */
  functionFiles: string[];
  /** Default 'api'; '' serves routes at the root. */
  routePrefix?: string;
  /**
   * Larger bodies get 413 before they are read (or, without a Content-Length, as soon as they
   * grow past it). Default: FUNCTIONS_REQUEST_BODY_SIZE_LIMIT from the environment, else 100 MB,
   * the real host's default.
   */
  maxRequestBodyBytes?: number;
  /** Time allowed for a client to send the request headers; default 30 s (Kestrel's). → 408 and close. */
  headersTimeoutMs?: number;
  /** Time allowed for a client to send the whole request, headers and body; default 30 s. → 408 and close. */
  requestTimeoutMs?: number;
  /** Default: timestamped lines on stdout/stderr. */
  logger?: HostLogger;
}

export interface HostedFunction {
  name: string;
  /** Full route template including the prefix, e.g. `api/items/{id:int}`. */
  route: string;
  /** Upper-case methods; empty means every method. */
  methods: string[];
}

export interface Host {
  port: number;
  url: string;
  functions: HostedFunction[];
  close(): Promise<void>;
}

interface RouteEntry extends HostedFunction {
  compiled: CompiledRoute;
  registration: Registration;
  triggerBindingName: string;
}

type RouteLookup = { kind: 'found'; entry: RouteEntry; params: RouteParams } | { kind: 'not-found' };

const defaultHeadersTimeoutMs = 30_000;
const defaultRequestTimeoutMs = 30_000;

async function resolveFunctionFiles(patterns: string[]): Promise<string[]> {
  const files = new Set<string>();
  for (const pattern of patterns) {
    if (isDynamicPattern(pattern)) {
      for (const file of await glob(pattern, { absolute: true, expandDirectories: false })) files.add(file);
    } else {
      files.add(resolve(pattern));
    }
  }
  return [...files].sort();
}

function toRouteEntry(registration: Registration, routePrefix: string, logger: HostLogger): RouteEntry | undefined {
  const { name, bindings } = registration.metadata;
  const isTrigger = ([, binding]: [string, RpcBindingInfo]): boolean => binding.direction === 'in' && /Trigger$/i.test(binding.type ?? '');
  const [triggerBindingName, binding] = Object.entries(bindings).find(isTrigger) ?? [];
  if (!triggerBindingName || !binding || binding.type?.toLowerCase() !== 'httptrigger') {
    const type = binding?.type ?? 'missing';
    logger.warn(`Function '${name}' has a ${type} trigger; the local host only serves HTTP triggers.`);
    return undefined;
  }
  const route = fullRouteTemplate(name, typeof binding.route === 'string' ? binding.route : undefined, routePrefix);
  const methods = Array.isArray(binding.methods) ? binding.methods.map((m) => String(m).toUpperCase()) : [];
  return { name, route, methods, compiled: compileRoute(route), registration, triggerBindingName };
}

function buildRouteTable(routePrefix: string, logger: HostLogger): RouteEntry[] {
  const names = new Set<string>();
  const entries: RouteEntry[] = [];
  for (const registration of getRegistrations()) {
    const key = registration.metadata.name.toLowerCase();
    if (names.has(key)) throw new Error(`Duplicate function name '${registration.metadata.name}'`);
    names.add(key);
    const entry = toRouteEntry(registration, routePrefix, logger);
    if (entry) entries.push(entry);
  }
  return entries.sort((a, b) => compareRoutePrecedence(a.compiled, b.compiled));
}

/**
 * A route that exists but does not serve the method is not found either: the real host routes on
 * method and path together and answers 404, never 405 (Azure/azure-functions-host#10098).
 */
function lookupRoute(routes: RouteEntry[], pathname: string, method: string): RouteLookup {
  const pathSegments = splitPath(pathname);
  for (const entry of routes) {
    if (entry.methods.length > 0 && !entry.methods.includes(method)) continue;
    const params = entry.compiled.matchPath(pathSegments);
    if (params) return { kind: 'found', entry, params };
  }
  return { kind: 'not-found' };
}

// RFC 9110 `uri-host [":" port]`: an IP literal in brackets or a reg-name, never user info.
const validHost = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/**
 * The request URL, or undefined when the Host header is not a valid authority (Kestrel: 400). An
 * empty Host is valid, as in Kestrel: the URL then names the address the host listens on.
 */
function requestUrl(req: IncomingMessage, fallbackHost: string): URL | undefined {
  const host = req.headers.host || fallbackHost;
  if (!validHost.test(host)) return undefined;
  try {
    return new URL(req.url ?? '/', `http://${host}`);
  } catch {
    return undefined;
  }
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/**
 * Listening on loopback, the host answers only to loopback names: a web page on another origin
 * that rebinds its DNS name to 127.0.0.1 could otherwise call this API in the developer's name
 * (trusted-header mode, possibly on their real Redis and PostgreSQL). Like ASP.NET Core's host
 * filtering, a refused name gets 400. Listening on another address, any valid name is served.
 */
function hostAllowed(listenHost: string, hostname: string): boolean {
  return !LOOPBACK.test(listenHost) || LOOPBACK.test(hostname);
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

async function requireHttpModel(): Promise<ProgrammingModel | undefined> {
  const model = getProgrammingModel();
  const capabilities = await model?.getCapabilities?.({});
  if (capabilities?.HttpUri) {
    throw new Error('HTTP streaming (app.setup({ enableHttpStream: true })) is not supported by the local host');
  }
  return model;
}

interface RequestContext {
  routes: RouteEntry[];
  env: InvocationEnvironment | undefined;
  bodyLimit: number;
  listenHost: string;
}

type FoundRoute = Extract<RouteLookup, { kind: 'found' }>;

const executingReason = 'This function was programmatically called via the host APIs.';

async function invoke(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, url: URL, found: FoundRoute): Promise<void> {
  const { env } = ctx;
  if (!env) throw new Error('No programming model was registered');
  const body = await readBody(req, ctx.bodyLimit);
  const invocationId = randomUUID();
  const label = `'Functions.${found.entry.name}'`;
  const started = performance.now();
  const duration = (): string => `${Math.round(performance.now() - started)}ms`;
  env.logger.info(`Executing ${label} (Reason='${executingReason}', Id=${invocationId})`);
  try {
    const { registration, triggerBindingName } = found.entry;
    const input = toHttpTriggerInput(req, url, body, found.params);
    const output = await invokeHttpFunction(env, { ...registration, triggerBindingName }, invocationId, input);
    writeHttpResponse(res, output);
    env.logger.info(`Executed ${label} (Succeeded, Id=${invocationId}, Duration=${duration()})`);
  } catch (error) {
    env.logger.error(`Executed ${label} (Failed, Id=${invocationId}, Duration=${duration()})\n${describeError(error)}`);
    sendEmpty(res, 500);
  }
}

async function handleRequest(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req, ctx.listenHost);
  if (!url || !hostAllowed(ctx.listenHost, url.hostname)) return sendEmpty(res, 400);
  const lookup = lookupRoute(ctx.routes, url.pathname, (req.method ?? 'GET').toUpperCase());
  if (lookup.kind === 'not-found') return sendEmpty(res, 404);
  try {
    await invoke(ctx, req, res, url, lookup);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) return sendEmpty(res, 413, { connection: 'close' });
    if (error instanceof RequestAbortedError) return;
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose, reject) => {
    server.close((error) => (error ? reject(error) : resolveClose()));
    server.closeAllConnections();
  });
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The function list as `func start` prints it: `name: [GET,POST] http://localhost:7071/api/route`. */
export function describeFunctions(host: Host, baseUrl = host.url): string {
  const lines = host.functions.map(({ name, route, methods }) => {
    const verbs = methods.length > 0 ? methods.join(',') : 'ALL';
    return `\t${name}: [${verbs}] ${baseUrl}/${route}`;
  });
  return `\nFunctions:\n\n${lines.join('\n')}\n`;
}

/**
 * Starts a local stand-in for `func start`. The process-wide `@azure/functions-core` registry is
 * shared, so the host serves every function registered in this process, not only those from
 * `functionFiles` (an already-imported file does not register twice).
 */
export async function startHost(options: HostOptions): Promise<Host> {
  installCoreShim();
  const logger = options.logger ?? consoleLogger;
  setCoreLogger(logger);
  for (const file of await resolveFunctionFiles(options.functionFiles)) {
    await import(pathToFileURL(file).href);
  }
  const programmingModel = await requireHttpModel();
  const routes = buildRouteTable(options.routePrefix ?? 'api', logger);
  const appHookData: Record<string, unknown> = {};
  await runHooks('appStart', { hookData: {}, appHookData, functionAppDirectory: process.cwd() });

  const listenHost = options.host ?? '127.0.0.1';
  const ctx: RequestContext = {
    routes,
    env: programmingModel && { programmingModel, logger, appHookData },
    bodyLimit: options.maxRequestBodyBytes ?? requestBodySizeLimit(process.env, logger),
    listenHost,
  };
  const headersTimeout = options.headersTimeoutMs ?? defaultHeadersTimeoutMs;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? defaultRequestTimeoutMs, headersTimeout);
  const serverOptions = {
    headersTimeout,
    requestTimeout,
    // Node checks both timeouts on this interval (30 s by default, which would double them).
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
  const server = createServer(serverOptions, (req, res) => {
    handleRequest(ctx, req, res).catch((error: unknown) => {
      logger.error(`Host error: ${describeError(error)}`);
      sendEmpty(res, 500);
    });
  });
  const port = await listen(server, options.port ?? 0, listenHost);

  let closing: Promise<void> | undefined;
  return {
    port,
    url: formatUrl(listenHost, port),
    functions: routes.map(({ name, route, methods }) => ({ name, route, methods })),
    close: () => (closing ??= runHooks('appTerminate', { hookData: {}, appHookData }).finally(() => closeServer(server))),
  };
}
