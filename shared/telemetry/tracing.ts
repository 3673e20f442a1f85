import {
  context,
  createContextKey,
  type Context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

let current: { provider: TracerProvider; tracer: Tracer } | undefined;

/**
 * Our tracer from the tracer provider registered now (the API's no-op one until one is). Asked for
 * at each use rather than once at module load: the build bundles its own copy of the API
 * (dev/bundle-functions.mjs), which shares the registration with the copy in node_modules through
 * `globalThis`, but a tracer handed out before anything was registered would stay bound to this
 * copy's private placeholder, which a provider registered through the other copy never reaches.
 */
export function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (current?.provider !== provider) current = { provider, tracer: provider.getTracer('dapr-state-functions') };
  return current.tracer;
}

/** The active span's ids in the field names Application Insights and most log tools expect. */
export function activeTraceFields(): { trace_id: string; span_id: string } | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  // Without a recording tracer and without a trace handed over, the active span is the API's
  // invalid placeholder: all-zero ids say nothing, so no fields then.
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * The trace id of the active span: inside `traceInvocation`, the invocation's trace (the one the
 * Functions host handed over, the App Insights operation id in Azure), without parsing it again.
 */
export function activeTraceId(): string | undefined {
  return activeTraceFields()?.trace_id;
}

const ATTEMPT = createContextKey('dapr-state-functions.attempt');

/** Runs `fn` with a compare-and-set attempt number that the state-call spans inside it record. */
export function withAttempt<T>(attempt: number, fn: () => T): T {
  return context.with(context.active().setValue(ATTEMPT, attempt), fn);
}

export function currentAttempt(): number | undefined {
  const value = context.active().getValue(ATTEMPT);
  return typeof value === 'number' ? value : undefined;
}

/**
 * Runs one invocation inside a server span whose parent is the trace context the Functions host
 * handed over (`InvocationContext.traceContext`: the host's own activity, which carries the
 * caller's `traceparent`). Everything the handler does — log lines, state calls, the sidecar's own
 * spans through the propagated `traceparent` — joins that trace.
 */
export function traceInvocation<R extends HttpResponseInit>(
  request: HttpRequest,
  invocation: InvocationContext,
  run: () => Promise<R>,
): Promise<R> {
  return tracer().startActiveSpan(
    invocation.functionName,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'faas.trigger': 'http',
        'faas.invocation_id': invocation.invocationId,
        'http.request.method': request.method,
      },
    },
    hostContext(invocation),
    async (span) => {
      try {
        const response = await run();
        const status = response.status ?? 200;
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return response;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

function hostContext(invocation: InvocationContext): Context {
  const traceContext = invocation.traceContext;
  if (!traceContext?.traceParent) return context.active();
  return propagation.extract(ROOT_CONTEXT, {
    traceparent: traceContext.traceParent,
    ...(traceContext.traceState ? { tracestate: traceContext.traceState } : {}),
  });
}
