import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { RpcHttpCookie, RpcHttpData, RpcTypedData } from './core-types.js';
import type { RouteParams } from './routes.js';

export class PayloadTooLargeError extends Error {
  constructor(limit: number) {
    super(`Request body exceeds the host limit of ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

/** The client went away (or was timed out by the server) before its body arrived. */
export class RequestAbortedError extends Error {
  constructor() {
    super('The client closed the connection before sending the whole body');
    this.name = 'RequestAbortedError';
  }
}

/**
 * Reads the whole request body, untouched, holding at most `limit` bytes. A declared
 * Content-Length over the limit is refused before a byte is read; a body without one (chunked) is
 * refused as soon as it grows past the limit. Either way nothing more is read: the caller answers
 * 413 and closes the connection, as Kestrel does under the real host.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers['content-length']) > limit) return Promise.reject(new PayloadTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: Error): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) stop(new PayloadTooLargeError(limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      req.off('close', onClose);
      resolve(Buffer.concat(chunks, size));
    };
    const onClose = (): void => stop(new RequestAbortedError());
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', () => undefined);
  });
}

function toRpcHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

export interface HttpTriggerInput {
  http: RpcHttpData;
  triggerMetadata: Record<string, RpcTypedData>;
}

/**
 * Shapes a request the way the Functions host sends it over RPC. `query` is left out on purpose:
 * the library then parses it from the URL, which keeps repeated keys (`getAll`) intact.
 */
export function toHttpTriggerInput(req: IncomingMessage, url: URL, body: Buffer, params: RouteParams): HttpTriggerInput {
  const headers = toRpcHeaders(req.headers);
  const http: RpcHttpData = {
    method: req.method ?? 'GET',
    url: url.href,
    headers,
    params,
    ...(body.length > 0 ? { body: { bytes: body } } : {}),
  };
  const triggerMetadata: Record<string, RpcTypedData> = {
    Headers: { json: JSON.stringify(headers) },
    Query: { json: JSON.stringify(Object.fromEntries(url.searchParams)) },
  };
  for (const [name, value] of Object.entries(params)) triggerMetadata[name] = { string: value };
  return { http, triggerMetadata };
}

const sameSiteAttribute: Record<string, string | undefined> = {
  lax: 'lax',
  strict: 'strict',
  explicitNone: 'none',
};

/** Attribute order and casing follow ASP.NET Core's SetCookieHeaderValue, which the real host uses. */
export function serializeCookie(cookie: RpcHttpCookie): string {
  const attributes = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  const expires = cookie.expires?.value?.seconds;
  if (expires !== undefined && expires !== null) {
    attributes.push(`expires=${new Date(Number(expires) * 1000).toUTCString()}`);
  }
  const maxAge = cookie.maxAge?.value;
  if (maxAge !== undefined && maxAge !== null) attributes.push(`max-age=${Math.trunc(maxAge)}`);
  if (cookie.domain?.value) attributes.push(`domain=${cookie.domain.value}`);
  if (cookie.path?.value) attributes.push(`path=${cookie.path.value}`);
  if (cookie.secure?.value) attributes.push('secure');
  const sameSite = sameSiteAttribute[cookie.sameSite ?? 'none'];
  if (sameSite) attributes.push(`samesite=${sameSite}`);
  if (cookie.httpOnly?.value) attributes.push('httponly');
  return attributes.join('; ');
}

function bodyBytes(body: RpcTypedData | null | undefined): Buffer {
  if (body?.bytes) return Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength);
  if (body?.stream) return Buffer.from(body.stream.buffer, body.stream.byteOffset, body.stream.byteLength);
  return Buffer.from(body?.string ?? body?.json ?? '');
}

// The host writes the whole body at once, so framing headers are its business, not the function's.
const framingHeaders = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end();
}

/** Writes the RPC http output of an invocation; no output at all means 204, as on the real host. */
export function writeHttpResponse(res: ServerResponse, http: RpcHttpData | null | undefined): void {
  if (!http) {
    sendEmpty(res, 204);
    return;
  }
  res.statusCode = Number(http.statusCode ?? 200) || 200;
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (framingHeaders.has(name.toLowerCase())) continue;
    res.appendHeader(name, value);
  }
  const cookies = (http.cookies ?? []).map(serializeCookie);
  if (cookies.length > 0) res.appendHeader('set-cookie', cookies);
  res.end(bodyBytes(http.body));
}
