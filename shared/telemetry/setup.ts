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
 *   then, since it is heavy), plus the Functions instrumentation that binds the host's trace context
 *   and tells the host the worker sends its own telemetry;
 * - otherwise a tracer provider that records nothing unless span processors are passed: trace
 *   context still flows (log lines carry trace ids, the sidecar gets a `traceparent`), at the cost of
 *   a few non-recording span objects per request, and nothing is exported.
 */
export function startTelemetry(options: TelemetryOptions = {}): Promise<TelemetryMode> {
  started ??= register(options);
  return started;
}

async function register({ connectionString, spanProcessors = [] }: TelemetryOptions): Promise<TelemetryMode> {
  if (connectionString) {
    const [{ useAzureMonitor }, { AzureFunctionsInstrumentationESM }, azFunc] = await Promise.all([
      import('@azure/monitor-opentelemetry'),
      import('@azure/functions-opentelemetry-instrumentation'),
      import('@azure/functions'),
    ]);
    useAzureMonitor({ azureMonitorExporterOptions: { connectionString }, spanProcessors });
    new AzureFunctionsInstrumentationESM().registerAzFunc(azFunc);
    return 'application-insights';
  }
  // Imported here, not at module load: function files load without it (see shared/deps.ts).
  const { AlwaysOffSampler, NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const recording = spanProcessors.length > 0;
  const provider = new NodeTracerProvider({
    spanProcessors,
    // Without an exporter nothing would read recorded spans: make them all non-recording.
    ...(recording ? {} : { sampler: new AlwaysOffSampler() }),
  });
  provider.register();
  return recording ? 'recording' : 'propagation-only';
}
