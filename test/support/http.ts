export interface CallOptions {
  /** Sent as x-user-id (AUTH_MODE=trusted-header); omit for an anonymous call. */
  user?: string;
  admin?: boolean;
  /** Serialized as JSON with content-type application/json, unless a string is given. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  body: any;
}

/** One HTTP call to the API as a given user, with the JSON answer parsed. */
export async function call(method: string, url: string, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.user) headers['x-user-id'] = options.user;
  if (options.admin) headers['x-user-roles'] = 'State.Admin';
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}
