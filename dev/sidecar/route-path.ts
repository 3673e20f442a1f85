import { posix } from 'node:path';

/*
 * How daprd turns a request path into route segments and parameters. Go's net/http keeps the path
 * as sent (when it is a valid encoding), daprd routes on `path.Clean` of that escaped path (so `//`,
 * `.`/`..` segments and a trailing slash disappear), and each route parameter is then decoded with
 * `url.QueryUnescape`, which also turns `+` into a space: a key sent as `a+b` is read as `a b`,
 * only `a%2Bb` reaches the store as `a+b`.
 */

/** Characters Go's `validEncoded` accepts unescaped in a path besides the unreserved ones. */
const PATH_SAFE = new Set("!$&'()*+,;=:@[]");

/** Go's `shouldEscape(c, encodePath)` for one byte. */
function shouldEscapeInPath(byte: number): boolean {
  const c = String.fromCharCode(byte);
  if (/[A-Za-z0-9\-_.~]/.test(c)) return false;
  if ('$&+,/:;=@'.includes(c)) return false;
  return true;
}

function escapePath(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    out += shouldEscapeInPath(byte) ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** Percent-decodes to bytes; `undefined` when an escape is malformed (Go answers 400 before routing). */
function unescapeBytes(text: string, plusIsSpace: boolean): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (char === '+' && plusIsSpace) {
      bytes.push(0x20);
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Uint8Array.from(bytes);
}

function isValidEncoded(path: string): boolean {
  for (const char of path) {
    if (char === '%' || PATH_SAFE.has(char)) continue;
    const code = char.codePointAt(0) ?? 0;
    if (code > 0x7f || shouldEscapeInPath(code)) return false;
  }
  return true;
}

/**
 * The still-escaped segments daprd routes on, or `undefined` for a path Go's server refuses (a
 * malformed `%` escape). Literal route parts compare against these; parameters go through
 * {@link routeParam}.
 */
export function routeSegments(rawPath: string): string[] | undefined {
  const decoded = unescapeBytes(rawPath, false);
  if (decoded === undefined) return undefined;
  const escaped = isValidEncoded(rawPath) ? rawPath : escapePath(decoded);
  return posix
    .normalize(`/${escaped}`)
    .replace(/(.)\/$/, '$1')
    .split('/')
    .slice(1);
}

/** A route parameter as daprd hands it to the handler (`url.QueryUnescape`). */
export function routeParam(segment: string): string {
  const bytes = unescapeBytes(segment, true);
  // routeSegments only yields valid escapes, so this cannot fail; keep the segment if it ever did.
  return bytes === undefined ? segment : Buffer.from(bytes).toString('utf8');
}
