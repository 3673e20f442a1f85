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

type Level = 'debug' | 'info' | 'warn' | 'error';

/** One level's method: details and a message, or a message alone. */
export interface LogMethod {
  (details: object, message: string): void;
  (message: string): void;
}

/** What services log with (a pino logger is one). */
export type Log = Record<Level, LogMethod>;

/**
 * An invocation's logging: every line carries the invocation's fields (the correlation id among
 * them). The pino child that binds them is made when the first line at an enabled level is
 * written, not before: making one costs about as much as writing a line (pino serialises and
 * redacts the bindings and rebuilds its level methods), services are handed the invocation's `log`
 * on every request but write to it only when something is worth saying, and the HTTP wrapper's own
 * line (`completed`) is written from the root with the same fields when no child exists yet.
 */
export class InvocationLog {
  #child: Logger | undefined;
  /** Lines that carry the invocation's fields. */
  readonly log: Log;

  constructor(
    private readonly root: Logger,
    private readonly fields: InvocationFields,
  ) {
    this.log = { debug: this.#at('debug'), info: this.#at('info'), warn: this.#at('warn'), error: this.#at('error') };
  }

  #at(level: Level): LogMethod {
    return (first: object | string, message?: string) => {
      if (!this.root.isLevelEnabled(level)) return;
      this.#child ??= this.root.child(this.fields);
      if (typeof first === 'string') this.#child[level](first);
      else this.#child[level](first, message);
    };
  }

  /** The wrapper's line for the finished invocation. */
  completed(details: Record<string, unknown>, message: string): void {
    if (this.#child) this.#child.info(details, message);
    else if (this.root.isLevelEnabled('info')) this.root.info({ ...this.fields, ...details }, message);
  }
}
