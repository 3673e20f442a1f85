import { pino, type Logger } from 'pino';
import { activeTraceFields } from './telemetry/tracing.js';

export type { Logger };

/** The process logger: JSON lines on stdout, which the Functions host and Container Apps collect. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dapr-state-functions' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // trace_id/span_id of the active span: the App Insights operation the line belongs to.
      mixin: () => activeTraceFields() ?? {},
      redact: {
        paths: [
          'headers.authorization',
          'headers["x-ms-client-principal"]',
          'headers["dapr-api-token"]',
          '*.headers.authorization',
          '*.headers["x-ms-client-principal"]',
          '*.headers["dapr-api-token"]',
          '*.password',
          '*.connectionString',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export interface InvocationFields {
  correlationId: string;
  functionName: string;
  invocationId: string;
}

/** One child per invocation, so every line carries the correlation id. */
export function invocationLogger(root: Logger, fields: InvocationFields): Logger {
  return root.child(fields);
}
