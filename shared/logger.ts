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

/**
 * An invocation's logging: every line carries the invocation's fields (the correlation id among
 * them). The pino child that binds them is made on first use only: making one costs about as much
 * as writing a line (pino serialises and redacts the bindings and rebuilds its level methods), and
 * most invocations write a single line, the HTTP wrapper's own, which `info` writes from the root
 * with the same fields.
 */
export class InvocationLog {
  #child: Logger | undefined;

  constructor(
    private readonly root: Logger,
    private readonly fields: InvocationFields,
  ) {}

  /** A logger whose every line carries the fields (made now, if not yet). */
  get logger(): Logger {
    this.#child ??= this.root.child(this.fields);
    return this.#child;
  }

  info(details: Record<string, unknown>, message: string): void {
    if (this.#child) this.#child.info(details, message);
    else if (this.root.isLevelEnabled('info')) this.root.info({ ...this.fields, ...details }, message);
  }
}
