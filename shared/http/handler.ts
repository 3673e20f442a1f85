import type { HttpRequest, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { getDeps, type Deps } from '../deps.js';
import { errorResponse, type JsonResponse } from '../errors.js';
import { userParamsSchema } from '../schemas.js';
import { createLogger, invocationLogger, type Logger } from '../logger.js';
import { hostTraceId, traceInvocation } from '../telemetry/tracing.js';
import { correlationIdFor } from './correlation.js';
import { authorizeUser, identifyCaller, type Caller } from './identity.js';
import { parseJsonBody, parseParams, parseQuery, parseWith } from './request.js';

/** What a function body sees: the request, its deps, a logger bound to the correlation id, and parsers. */
export interface RequestContext {
  request: HttpRequest;
  deps: Deps;
  log: Logger;
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

/**
 * Adapts a function body to an Azure Functions HTTP handler: correlation id in and out, one child
 * logger per invocation, every thrown error mapped by the one mapper, latency logged.
 */
export function httpHandler(
  body: FunctionBody,
  loadDeps: () => Promise<Deps> = getDeps,
): (request: HttpRequest, invocation: InvocationContext) => Promise<JsonResponse> {
  return (request, invocation) => traceInvocation(request, invocation, () => handle(request, invocation));

  async function handle(request: HttpRequest, invocation: InvocationContext): Promise<JsonResponse> {
    const started = performance.now();
    // Without a caller-given id, the invocation's trace id: the App Insights operation id in Azure.
    const correlationId = correlationIdFor(request.headers, hostTraceId(invocation) ?? invocation.invocationId);
    const fields = { correlationId, functionName: invocation.functionName, invocationId: invocation.invocationId };
    let log = invocationLogger(startupLogger, fields);
    let response: JsonResponse;
    try {
      const deps = await loadDeps();
      log = invocationLogger(deps.logger, fields);
      response = toResponse(await body(requestContext(request, deps, log, correlationId)));
    } catch (error) {
      response = errorResponse(error, correlationId, log);
    }
    log.info(
      { method: request.method, status: response.status, durationMs: Math.round(performance.now() - started) },
      'request completed',
    );
    return { ...response, headers: { ...response.headers, 'x-correlation-id': correlationId } };
  }
}

function requestContext(request: HttpRequest, deps: Deps, log: Logger, correlationId: string): RequestContext {
  const caller = () => identifyCaller(request.headers, deps.config.authMode, deps.config.authClientId);
  return {
    request,
    deps,
    log,
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
