/** version-traceid-parentid-flags; versions after 00 may append fields (W3C Trace Context, §3.2). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const CORRELATION_ID = /^[A-Za-z0-9._-]{8,128}$/;
const ZERO = /^0+$/;

/**
 * A `traceparent` the W3C rules accept (case aside, as hosts are lenient there): not version ff,
 * exactly four fields in version 00, neither id all zeros. The local host (dev/host/trace-context.ts)
 * continues the same ones, so a correlation id taken from it is the trace's id.
 */
export function parseTraceparent(header: string | null | undefined): { traceId: string; flags: string } | undefined {
  const match = TRACEPARENT.exec(header?.trim().toLowerCase() ?? '');
  if (!match) return undefined;
  const [, version, traceId, parentId, flags, rest] = match;
  if (!traceId || !parentId || !flags || version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ZERO.test(traceId) || ZERO.test(parentId)) return undefined;
  return { traceId, flags };
}

/**
 * The id every log line and the response carry: the W3C trace id from a well-formed `traceparent`,
 * else a well-formed `x-correlation-id`, else the invocation id. Malformed values are ignored so
 * a caller cannot inject arbitrary text into our logs.
 */
export function correlationIdFor(headers: Headers, invocationId: string): string {
  const traceId = parseTraceparent(headers.get('traceparent'))?.traceId;
  if (traceId) return traceId;
  const given = headers.get('x-correlation-id')?.trim();
  if (given && CORRELATION_ID.test(given)) return given;
  return invocationId;
}
