import type { HttpRequest, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { getDeps, type Deps } from '../deps.js';
import { errorResponse, type JsonResponse } from '../errors.js';
import { invocationLogger, type Logger } from '../logger.js';
import { correlationIdFor } from './correlation.js';
import { authorizeUser, identifyCaller, type Caller } from './identity.js';
import { parseJsonBody, parseParams, parseQuery } from './request.js';

/** What a function body sees: the request, its deps, a logger bound to the correlation id, and parsers. */
export interface RequestContext {
  request: HttpRequest;
  deps: Deps;
  log: Logger;
  correlationId: string;
  /** The authenticated caller (401 otherwise). */
  caller(): Caller;
  /** The caller, after checking they may act on `userId` (401/403 otherwise). */
  callerFor(userId: string): Caller;
  params<S extends z.ZodType>(schema: S): z.infer<S>;
  query<S extends z.ZodType>(schema: S): z.infer<S>;
  body<S extends z.ZodType>(schema: S): Promise<z.infer<S>>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type FunctionBody = (ctx: RequestContext) => Promise<Reply>;

/**
 * Adapts a function body to an Azure Functions HTTP handler: correlation id in and out, one child
 * logger per invocation, every thrown error mapped by the one mapper, latency logged.
 */
export function httpHandler(
  body: FunctionBody,
  loadDeps: () => Promise<Deps> = getDeps,
): (request: HttpRequest, invocation: InvocationContext) => Promise<JsonResponse> {
  return async (request, invocation) => {
    const started = performance.now();
    const correlationId = correlationIdFor(request.headers, invocation.invocationId);
    const deps = await loadDeps();
    const log = invocationLogger(deps.logger, {
      correlationId,
      functionName: invocation.functionName,
      invocationId: invocation.invocationId,
    });
    let response: JsonResponse;
    try {
      response = toResponse(await body(requestContext(request, deps, log, correlationId)));
    } catch (error) {
      response = errorResponse(error, correlationId, log);
    }
    log.info(
      { method: request.method, status: response.status, durationMs: Math.round(performance.now() - started) },
      'request completed',
    );
    return { ...response, headers: { ...response.headers, 'x-correlation-id': correlationId } };
  };
}

function requestContext(request: HttpRequest, deps: Deps, log: Logger, correlationId: string): RequestContext {
  const caller = () => identifyCaller(request.headers, deps.config.authMode);
  return {
    request,
    deps,
    log,
    correlationId,
    caller,
    callerFor(userId) {
      const who = caller();
      authorizeUser(who, userId);
      return who;
    },
    params: (schema) => parseParams(request, schema),
    query: (schema) => parseQuery(request, schema),
    body: (schema) => parseJsonBody(request, schema),
  };
}

function toResponse(reply: Reply): JsonResponse {
  if (reply.body === undefined) return { status: reply.status, headers: { ...reply.headers } };
  return {
    status: reply.status,
    headers: { 'content-type': 'application/json', ...reply.headers },
    jsonBody: reply.body,
  };
}
