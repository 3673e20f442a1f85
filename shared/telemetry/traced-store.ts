import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { AlreadyExists, Conflict, Unavailable } from '../errors.js';
import type { StateStore } from '../state/port.js';
import { currentAttempt, tracer } from './tracing.js';

type Operation = 'get' | 'getBulk' | 'save' | 'saveBulk' | 'delete' | 'transaction' | 'ping';

/**
 * Wraps a state store (when spans are recorded: shared/deps.ts) so every call is a client span (store, operation, outcome, attempt) that is
 * active while the call runs: the Dapr adapter's HTTP agent sends it to the sidecar as the
 * `traceparent`, so daprd's own spans become its children.
 */
export function tracedStateStore(store: StateStore): StateStore {
  function traced<T>(operation: Operation, keys: number, run: () => Promise<T>): Promise<T> {
    const attempt = currentAttempt();
    return tracer().startActiveSpan(
      `state ${operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'dapr',
          'db.namespace': store.name,
          'db.operation.name': operation,
          'dapr.state.keys': keys,
          ...(attempt === undefined ? {} : { 'dapr.state.attempt': attempt }),
        },
      },
      async (span) => {
        try {
          const result = await run();
          span.setAttribute('dapr.state.outcome', 'ok');
          return result;
        } catch (error) {
          recordOutcome(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  return {
    name: store.name,
    get: (key) => traced('get', 1, () => store.get(key)),
    getBulk: (keys) => traced('getBulk', keys.length, () => store.getBulk(keys)),
    save: (key, value, options) => traced('save', 1, () => store.save(key, value, options)),
    saveBulk: (items) => traced('saveBulk', items.length, () => store.saveBulk(items)),
    delete: (key, options) => traced('delete', 1, () => store.delete(key, options)),
    transaction: (operations) => traced('transaction', operations.length, () => store.transaction(operations)),
    ping: () => traced('ping', 1, () => store.ping()),
  };
}

function recordOutcome(span: Span, error: unknown): void {
  // Conflicts are an expected part of compare-and-set, not failures of the call.
  const outcome =
    error instanceof AlreadyExists
      ? 'already_exists'
      : error instanceof Conflict
        ? 'conflict'
        : error instanceof Unavailable
          ? 'unavailable'
          : 'error';
  span.setAttribute('dapr.state.outcome', outcome);
  if (outcome === 'unavailable' || outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
}
