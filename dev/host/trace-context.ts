import { randomHex } from '../random-hex.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/;
const ZERO = /^0+$/;

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
  const incoming = TRACEPARENT.exec(headers?.traceparent?.trim().toLowerCase() ?? '');
  const traceId = incoming?.[1] && !ZERO.test(incoming[1]) ? incoming[1] : randomHex();
  const flags = incoming?.[1] && !ZERO.test(incoming[1]) ? (incoming[2] ?? '01') : '01';
  return {
    traceParent: `00-${traceId}-${randomHex().slice(0, 16)}-${flags}`,
    traceState: incoming ? (headers?.tracestate ?? '') : '',
    attributes: {},
  };
}
