import type { HttpRequest, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { getDeps, whenTelemetryStarted, type Deps } from '../deps.js';
import { errorResponse, Unavailable, type JsonResponse } from '../errors.js';
import { userParamsSchema } from '../schemas.js';
import { createLogger, InvocationLog, type Log } from '../logger.js';
import { BACKSTOP_GRACE_MS, runWithDeadline } from '../state/deadline.js';
import { activeTraceId, traceInvocation } from '../telemetry/tracing.js';
import { correlationIdFor } from './correlation.js';
import { authorizeUser, identifyCaller, type Caller } from './identity.js';
import { parseJsonBody, parseParams, parseQuery, parseWith } from './request.js';

/** What a function body sees: the request, its deps, a logger bound to the correlation id, and parsers. */
export interface RequestContext {
  request: HttpRequest;
  deps: Deps;
  log: Log;
  correlationId: string;
  /** The authenticated caller (401 otherwise). */
  caller(): Caller;
  /**
   * For routes under `users/{userId}`: authenticates the caller (401), validates the id (400) and
   * checks the caller may act for that user (403), in that order; returns the user id.
   */
  pathUser(): string;
  params<S extends z.ZodType>(schema: S): z.infer<S>;
  query<S extends z.ZodType>(schema: S): z.infer<S>;
  /** One request header parsed with a schema (absent headers parse as undefined). */
  header<S extends z.ZodType>(name: string, schema: S): z.infer<S>;
  /** The JSON body, at most `maxBytes` (256 KiB by default). */
  body<S extends z.ZodType>(schema: S, maxBytes?: number): Promise<z.infer<S>>;
}

export interface Reply {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is instead (give its content-type in `headers`). */
  text?: string;
  headers?: Record<string, string>;
}

export type FunctionBody = (ctx: RequestContext) => Promise<Reply>;

/** Logs what fails before the dependencies (and their configured logger) exist. */
const startupLogger = createLogger('info');

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Adapts a function body to an Azure Functions HTTP handler: correlation id in and out, every log
 * line of the invocation carrying it (InvocationLog), every thrown error mapped by the one mapper,
 * latency logged. The body runs inside the request's time budget (REQUEST_TIMEOUT_MS, once the
 * app is loaded), which every store call and retry shares; should anything still hang, the
 * backstop answers 503 at the deadline.
 */
export function httpHandler(
  body: FunctionBody,
  loadDeps: () => Promise<Deps> = getDeps,
): (request: HttpRequest, invocation: InvocationContext) => Promise<JsonResponse> {
  return async (request, invocation) => {
    await whenTelemetryStarted();
    return traceInvocation(request, invocation, () => handle(request, invocation));
  };

  async function handle(request: HttpRequest, invocation: InvocationContext): Promise<JsonResponse> {
    const started = performance.now();
    // Without a caller-given id, the invocation's trace id: the App Insights operation id in Azure.
    const correlationId = correlationIdFor(request.headers, activeTraceId() ?? invocation.invocationId);
    const fields = { correlationId, functionName: invocation.functionName, invocationId: invocation.invocationId };
    let log: InvocationLog | undefined;
    let response: JsonResponse;
    try {
      const deps = await loadDeps();
      const invocationLog = new InvocationLog(deps.logger, fields);
      log = invocationLog;
      // From here, not from arrival: a cold start's one-time loading (the Dapr SDK import, ~0.5 s
      // and far more on a busy machine) says nothing about the stores and must not fail requests.
      const deadline = performance.now() + deps.config.requestTimeoutMs;
      const context = requestContext(request, deps, invocationLog, correlationId);
      response = toResponse(await runWithDeadline(deadline, () => withBackstop(body(context), deadline, request.method, invocationLog)));
    } catch (error) {
      log ??= new InvocationLog(startupLogger, fields);
      response = errorResponse(error, correlationId, log.log);
    }
    log.completed(
      { method: request.method, status: response.status, durationMs: Math.round(performance.now() - started) },
      'request completed',
    );
    return { ...response, headers: { ...response.headers, 'x-correlation-id': correlationId } };
  }
}

/**
 * The body's reply, or a 503 once the deadline (plus a grace) has passed. The abandoned body keeps
 * running; what it throws later is logged, never unhandled. For a method that may write, the 503
 * says the outcome is unknown: the body was stopped at an unknown point.
 */
async function withBackstop(reply: Promise<Reply>, deadline: number, method: string, log: InvocationLog): Promise<Reply> {
  let timer: NodeJS.Timeout | undefined;
  const backstop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        reply.catch((error: unknown) => log.log.warn({ err: error }, 'request body failed after its deadline'));
        reject(new Unavailable('the request ran past its time budget', { outcomeUnknown: !SAFE_METHODS.has(method.toUpperCase()) }));
      },
      Math.max(0, deadline - performance.now()) + BACKSTOP_GRACE_MS,
    );
  });
  try {
    return await Promise.race([reply, backstop]);
  } finally {
    clearTimeout(timer);
  }
}

function requestContext(request: HttpRequest, deps: Deps, log: InvocationLog, correlationId: string): RequestContext {
  const caller = () => identifyCaller(request.headers, deps.config.authMode, deps.config.authClientId);
  return {
    request,
    deps,
    log: log.log,
    correlationId,
    caller,
    pathUser() {
      const who = caller();
      const { userId } = parseParams(request, userParamsSchema);
      authorizeUser(who, userId);
      return userId;
    },
    params: (schema) => parseParams(request, schema),
    query: (schema) => parseQuery(request, schema),
    header: (name, schema) => parseWith(schema, request.headers.get(name) ?? undefined, `headers.${name}`),
    body: (schema, maxBytes) => parseJsonBody(request, schema, maxBytes),
  };
}

function toResponse(reply: Reply): JsonResponse {
  if (reply.text !== undefined) return { status: reply.status, headers: { ...reply.headers }, body: reply.text };
  if (reply.body === undefined) return { status: reply.status, headers: { ...reply.headers } };
  return {
    status: reply.status,
    headers: { 'content-type': 'application/json', ...reply.headers },
    jsonBody: reply.body,
  };
}
