import { describe, expect, it } from 'vitest';
import { routeParam, routeSegments } from '../../dev/sidecar/route-path.js';
import { postJson, read, storeCalls, uniqueKey, useHarness } from './helpers.js';

const h = useHarness();
const { save } = storeCalls(h);
const getPath = async (rawKeyPath: string) => read(await fetch(h.url(`/state/statestore/${rawKeyPath}`)));

describe('keys in the URL path, as daprd decodes them (route parameter + url.QueryUnescape)', () => {
  it('reads a literal + as a space, and %2B as a plus', async () => {
    const base = uniqueKey('plus');
    await save([
      { key: `${base} spaced`, value: 'space' },
      { key: `${base}+plus`, value: 'plus' },
    ]);
    expect((await getPath(`${base}+spaced`)).body).toBe('space');
    expect((await getPath(`${base}%2Bplus`)).body).toBe('plus');
  });

  it('keeps an encoded slash inside the key and decodes an encoded percent sign', async () => {
    const base = uniqueKey('chars');
    await save([
      { key: `${base}/a`, value: 'slash' },
      { key: `${base}%b`, value: 'percent' },
    ]);
    expect((await getPath(`${base}%2Fa`)).body).toBe('slash');
    expect((await getPath(`${base}%25b`)).body).toBe('percent');
  });

  it('routes on the cleaned path: a trailing slash and doubled slashes are ignored', async () => {
    const key = uniqueKey('clean');
    await save([{ key, value: 'clean' }]);
    expect((await getPath(`${key}/`)).body).toBe('clean');
    expect((await read(await fetch(`${h.sidecar.url}/v1.0//state/statestore//${key}`))).body).toBe('clean');
    expect((await postJson(h.url('/state/statestore/'), [{ key: uniqueKey('slash-save'), value: 1 }])).status).toBe(204);
  });

  it("answers a malformed escape with Go's plain 400 before routing", async () => {
    const response = await fetch(h.url('/state/statestore/bad%zz'));
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('400 Bad Request');
  });
});

describe('routeSegments and routeParam', () => {
  it('keep a valid escaped path as sent and re-escape one Go would not keep', () => {
    expect(routeSegments('/v1.0/state/s/a%2fb')).toEqual(['v1.0', 'state', 's', 'a%2fb']);
    expect(routeSegments('/v1.0/state/s/./k/')).toEqual(['v1.0', 'state', 's', 'k']);
    expect(routeSegments('/v1.0/state/s/a%zz')).toBeUndefined();
    expect(routeParam('a+b%2Bc%C3%A9')).toBe('a b+cé');
  });
});
