import { ValidationError } from '../errors.js';

/** Ids the public API accepts; also the only characters a key segment may hold. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

function segment(kind: 'domain' | 'type', value: string): string {
  if (!NAME_PATTERN.test(value)) throw new Error(`Invalid key ${kind} ${JSON.stringify(value)}`);
  return value;
}

/**
 * Builds `<domain>:<type>:<id>`. Domain and type are code constants; the id comes from callers and
 * is checked against ID_PATTERN, so it can never contain `:`, `||`, control characters or be
 * over-long: two different ids can never build the same key.
 */
export function stateKey(domain: string, type: string, id: string): string {
  if (!ID_PATTERN.test(id)) {
    throw new ValidationError([{ path: 'id', message: 'must match ^[A-Za-z0-9_-]{1,128}$' }]);
  }
  return `${segment('domain', domain)}:${segment('type', type)}:${id}`;
}

/** A key builder bound to one `<domain>:<type>`. */
export function keyBuilder(domain: string, type: string): (id: string) => string {
  segment('domain', domain);
  segment('type', type);
  return (id) => stateKey(domain, type, id);
}
