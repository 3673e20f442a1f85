import { app } from '@azure/functions';
import { context, propagation } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';

export interface TelemetryOptions {
  /** `APPLICATIONINSIGHTS_CONNECTION_STRING`: when set, spans and logs go to Application Insights. */
  connectionString?: string | undefined;
  /** Extra span processors (tests pass an in-memory exporter); when given, spans are recorded. */
  spanProcessors?: SpanProcessor[];
}

export type TelemetryMode = 'application-insights' | 'recording' | 'propagation-only';

let started: Promise<TelemetryMode> | undefined;

/**
 * Registers OpenTelemetry for the process, once (the first call decides; later calls get its mode):
 * - with a connection string: Azure Monitor's distro (`@azure/monitor-opentelemetry`, imported only
 *   then, since it is heavy), and the host is told that the worker sends its own telemetry
 *   (declareWorkerTelemetry), so it does not report the invocations a second time;
 * - with span processors (tests): the SDK's tracer provider, recording every span;
 * - otherwise propagation only: no tracer provider, just a context manager and the W3C propagator.
 *   Nothing is recorded or exported, yet context flows: log lines carry the host's trace and span
 *   ids, and every sidecar call carries the host's `traceparent` (its sampled flag untouched, so
 *   daprd samples as the caller decided).
 */
export function startTelemetry(options: TelemetryOptions = {}): Promise<TelemetryMode> {
  if (!started) {
    declareWorkerTelemetry(options.connectionString);
    started = register(options);
  }
  return started;
}

/**
 * Tells the Functions host, through the worker's capabilities, that this worker exports its own
 * OpenTelemetry data (`WorkerOpenTelemetryEnabled`), when a connection string says it will. Must
 * run while the function files load: the worker asks for the capabilities once they are loaded,
 * and `app.setup` refuses changes after that, so it cannot wait for the distro's import. (The
 * Functions instrumentation package, no longer a dependency, made this call only once imported,
 * too late for telemetry loaded lazily; its other part, running each invocation in the host's
 * trace context, is what traceInvocation in tracing.ts does.)
 */
export function declareWorkerTelemetry(connectionString: string | undefined): void {
  if (connectionString) app.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
}

async function register({ connectionString, spanProcessors = [] }: TelemetryOptions): Promise<TelemetryMode> {
  if (connectionString) {
    const { useAzureMonitor } = await import('@azure/monitor-opentelemetry');
    useAzureMonitor({ azureMonitorExporterOptions: { connectionString }, spanProcessors });
    return 'application-insights';
  }
  if (spanProcessors.length > 0) {
    const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
    new NodeTracerProvider({ spanProcessors }).register();
    return 'recording';
  }
  // Nothing would read a span, so no tracer provider: the API's tracer then makes non-recording
  // spans that carry the context they were started in (the host's), which is all propagation needs.
  // Only what makes context flow is loaded: not the SDK, nor all of @opentelemetry/core (see w3c-propagator.ts).
  const [{ AsyncLocalStorageContextManager }, { W3CPropagator }] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('./w3c-propagator.js'),
  ]);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CPropagator());
  return 'propagation-only';
}
