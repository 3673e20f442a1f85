import { parseTraceparent } from '../../shared/http/correlation.js';
import { randomHex } from '../random-hex.js';

export interface RpcTraceContext {
  traceParent: string;
  traceState: string;
  attributes: Record<string, string>;
}

/**
 * The trace context the Azure Functions host hands the worker with every invocation: the host's
 * own activity, a child of the caller's `traceparent` when one came in well-formed (same trace id,
 * same sampled flag), else the root of a new trace. `@azure/functions` exposes it as
 * `InvocationContext.traceContext`.
 */
export function invocationTraceContext(headers: Record<string, string> | null | undefined): RpcTraceContext {
  const incoming = parseTraceparent(headers?.traceparent);
  const traceId = incoming?.traceId ?? randomHex();
  const flags = incoming?.flags ?? '01';
  return {
    traceParent: `00-${traceId}-${randomHex().slice(0, 16)}-${flags}`,
    traceState: incoming ? (headers?.tracestate ?? '') : '',
    attributes: {},
  };
}
