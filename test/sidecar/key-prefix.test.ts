import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComponentSpec } from '../../dev/sidecar/components.js';
import { keyMapperFor } from '../../dev/sidecar/key-prefix.js';
import { startSidecar } from '../../dev/sidecar/server.js';
import { APP_ID, postJson, read, startHarness, type Harness } from './helpers.js';

const store = (name: string, keyPrefix?: string): ComponentSpec => ({
  name,
  type: 'state.redis',
  version: 'v1',
  metadata: keyPrefix === undefined ? {} : { keyPrefix },
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness([
    store('default-prefix'),
    store('appid-prefix', 'appid'),
    store('name-prefix', 'name'),
    store('namespace-prefix', 'namespace'),
    store('no-prefix', 'none'),
    store('custom-prefix', 'shared-cache'),
    store('mixed-case-prefix', 'Shared-Cache'),
    { name: 'lowercase-name', type: 'state.redis', version: 'v1', metadata: { keyprefix: 'name' } },
  ]);
});
afterAll(async () => {
  await h.sidecar.close();
});

async function storedKeyFor(component: string, key: string): Promise<string[]> {
  expect((await postJson(h.url(`/state/${component}`), [{ key, value: component }])).status).toBe(204);
  expect(await read(await fetch(h.url(`/state/${component}/${key}`)))).toMatchObject({ status: 200, body: component });
  return h.backends.get(component)?.storedKeys() ?? [];
}

describe('keyPrefix', () => {
  it('prefixes keys with the app id by default and with "appid"', async () => {
    expect(await storedKeyFor('default-prefix', 'k')).toEqual([`${APP_ID}||k`]);
    expect(await storedKeyFor('appid-prefix', 'k')).toEqual([`${APP_ID}||k`]);
  });

  it('prefixes keys with the component name for "name"', async () => {
    expect(await storedKeyFor('name-prefix', 'k')).toEqual(['name-prefix||k']);
  });

  it('falls back to the app id for "namespace" when no namespace is set', async () => {
    expect(await storedKeyFor('namespace-prefix', 'k')).toEqual([`${APP_ID}||k`]);
  });

  it('stores the bare key for "none"', async () => {
    expect(await storedKeyFor('no-prefix', 'k')).toEqual(['k']);
  });

  it('uses any other value as a literal prefix', async () => {
    expect(await storedKeyFor('custom-prefix', 'k')).toEqual(['shared-cache||k']);
  });

  it('lowercases a custom prefix, as daprd does', async () => {
    expect(await storedKeyFor('mixed-case-prefix', 'k')).toEqual(['shared-cache||k']);
  });

  it('reads the keyPrefix metadata name case-insensitively', async () => {
    expect(await storedKeyFor('lowercase-name', 'k')).toEqual(['lowercase-name||k']);
  });

  it('returns the caller’s key, not the stored one, from a bulk get', async () => {
    const { body } = await read(await postJson(h.url('/state/name-prefix/bulk'), { keys: ['k'] }));
    expect(body).toEqual([{ key: 'k', data: 'name-prefix', etag: '1' }]);
  });

  it('refuses to start with a custom prefix containing ||', async () => {
    await expect(startSidecar({ appId: APP_ID, components: [store('bad', 'a||b')] })).rejects.toThrow(/can't contain/);
  });

  it('uses namespace.appId for "namespace" when a namespace is given', () => {
    const mapKey = keyMapperFor(store('ns', 'namespace'), { appId: APP_ID, namespace: 'team' });
    expect(mapKey('k')).toEqual({ ok: true, key: `team.${APP_ID}||k` });
  });
});
