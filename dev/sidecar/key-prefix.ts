import type { ComponentSpec } from './components.js';

export const KEY_SEPARATOR = '||';

export interface KeyPrefixContext {
  appId: string;
  namespace?: string;
}

/** Maps an app's key to the key the store holds, or an error message when the key is invalid. */
export type KeyMapper = (key: string) => { ok: true; key: string } | { ok: false; message: string };

/**
 * daprd's `keyPrefix` strategies (pkg/components/state/state_config.go): `appid` (default),
 * `name`, `namespace`, `none`, or any other string used as the prefix. daprd looks the metadata
 * name up case-insensitively and lowercases the value, a custom prefix included.
 */
export function keyMapperFor(component: ComponentSpec, context: KeyPrefixContext): KeyMapper {
  const prefix = resolvePrefix(component, context);
  if (prefix.includes(KEY_SEPARATOR)) {
    throw new Error(`component ${component.name}: keyPrefix '${prefix}' can't contain '${KEY_SEPARATOR}'`);
  }
  return (key) => {
    if (key.includes(KEY_SEPARATOR)) {
      return { ok: false, message: `input key/keyPrefix '${key}' can't contain '${KEY_SEPARATOR}'` };
    }
    return { ok: true, key: prefix === '' ? key : `${prefix}${KEY_SEPARATOR}${key}` };
  };
}

function resolvePrefix(component: ComponentSpec, { appId, namespace }: KeyPrefixContext): string {
  const name = Object.keys(component.metadata).find((key) => key.toLowerCase() === 'keyprefix');
  const strategy = (name === undefined ? '' : (component.metadata[name] ?? '')).toLowerCase();
  switch (strategy) {
    case '':
    case 'appid':
      return appId;
    case 'name':
      return component.name;
    case 'namespace':
      return namespace ? `${namespace}.${appId}` : appId;
    case 'none':
      return '';
    default:
      return strategy;
  }
}
