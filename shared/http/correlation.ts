const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const CORRELATION_ID = /^[A-Za-z0-9._-]{8,128}$/;
const ZERO_TRACE_ID = /^0+$/;

/**
 * The id every log line and the response carry: the W3C trace id from a well-formed `traceparent`,
 * else a well-formed `x-correlation-id`, else the invocation id. Malformed values are ignored so
 * a caller cannot inject arbitrary text into our logs.
 */
export function correlationIdFor(headers: Headers, invocationId: string): string {
  const traceId = TRACEPARENT.exec(headers.get('traceparent')?.trim().toLowerCase() ?? '')?.[1];
  if (traceId && !ZERO_TRACE_ID.test(traceId)) return traceId;
  const given = headers.get('x-correlation-id')?.trim();
  if (given && CORRELATION_ID.test(given)) return given;
  return invocationId;
}
