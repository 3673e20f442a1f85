import { randomHex } from '../random-hex.js';
import type { IncomingHttpHeaders } from 'node:http';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The W3C trace headers daprd's tracing middleware puts on its answers (it is on unless the
 * sampling rate is set to 0): the `traceparent` of the span daprd opened for the call, a child of
 * the caller's `traceparent` when one came (same trace, new span id, the caller's sampled flag),
 * otherwise a new trace left unsampled (daprd's default rate is 1 in 10,000), plus the caller's
 * `tracestate`. Health checks (any path containing `/healthz`) are not traced and get none.
 */
export function traceHeaders(path: string, request: IncomingHttpHeaders): Record<string, string> {
  if (path.includes('/healthz')) return {};
  const parent = TRACEPARENT.exec(single(request.traceparent) ?? '');
  const traceId = parent?.[1];
  const spanId = parent?.[2];
  const validParent = traceId !== undefined && spanId !== undefined && !/^0+$/.test(traceId) && !/^0+$/.test(spanId);
  const flags = validParent ? (Number.parseInt(parent?.[3] ?? '0', 16) & 1 ? '01' : '00') : '00';
  const headers: Record<string, string> = {
    traceparent: `00-${validParent ? traceId : randomHex()}-${randomHex().slice(16)}-${flags}`,
  };
  const tracestate = single(request.tracestate);
  if (validParent && tracestate) headers.tracestate = tracestate;
  return headers;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
