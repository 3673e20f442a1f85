import { describe, expect, it } from 'vitest';
import { compareRoutePrecedence, compileRoute, fullRouteTemplate } from '../../dev/host/routes.js';

describe('fullRouteTemplate', () => {
  it('defaults the route to the function name under the api prefix', () => {
    expect(fullRouteTemplate('health', undefined)).toBe('api/health');
  });

  it('joins a custom prefix and strips stray slashes', () => {
    expect(fullRouteTemplate('x', '/items/{id}/', '/v1/')).toBe('v1/items/{id}');
  });

  it('serves at the root when the prefix is empty', () => {
    expect(fullRouteTemplate('x', 'items', '')).toBe('items');
  });
});

describe('compileRoute', () => {
  it('matches literal segments case-insensitively', () => {
    expect(compileRoute('api/Items/List').match('/API/items/LIST')).toEqual({});
  });

  it('tolerates a trailing slash but rejects extra segments', () => {
    const route = compileRoute('api/items');
    expect(route.match('/api/items/')).toEqual({});
    expect(route.match('/api/items/more')).toBeUndefined();
    expect(route.match('/api')).toBeUndefined();
  });

  it('captures parameters and URL-decodes them', () => {
    expect(compileRoute('api/users/{user}/notes/{note}').match('/api/users/j%C3%B6rg%20k/notes/a%2Fb')).toEqual({
      user: 'jörg k',
      note: 'a/b',
    });
  });

  it('leaves optional parameters out when the path ends before them', () => {
    const route = compileRoute('api/items/{id}/{slug?}');
    expect(route.match('/api/items/1')).toEqual({ id: '1' });
    expect(route.match('/api/items/1/hello')).toEqual({ id: '1', slug: 'hello' });
    expect(route.match('/api/items')).toBeUndefined();
  });

  it('fills in default values for omitted parameters', () => {
    const route = compileRoute('api/pages/{page=1}');
    expect(route.match('/api/pages')).toEqual({ page: '1' });
    expect(route.match('/api/pages/7')).toEqual({ page: '7' });
  });

  it('captures the rest of the path, slashes included, with a catch-all', () => {
    const route = compileRoute('api/files/{*path}');
    expect(route.match('/api/files/a/b%20c/d.txt')).toEqual({ path: 'a/b c/d.txt' });
    expect(route.match('/api/files')).toEqual({});
    expect(compileRoute('api/files/{**path}').match('/api/files/x/y')).toEqual({ path: 'x/y' });
  });

  it('enforces the int constraint, including the 32-bit range', () => {
    const route = compileRoute('api/items/{id:int}');
    expect(route.match('/api/items/-42')).toEqual({ id: '-42' });
    expect(route.match('/api/items/abc')).toBeUndefined();
    expect(route.match('/api/items/1.5')).toBeUndefined();
    expect(route.match('/api/items/2147483648')).toBeUndefined();
  });

  it('enforces the alpha, bool and guid constraints', () => {
    expect(compileRoute('a/{v:alpha}').match('/a/Hello')).toEqual({ v: 'Hello' });
    expect(compileRoute('a/{v:alpha}').match('/a/h3llo')).toBeUndefined();
    expect(compileRoute('a/{v:bool}').match('/a/TRUE')).toEqual({ v: 'TRUE' });
    expect(compileRoute('a/{v:bool}').match('/a/yes')).toBeUndefined();
    const guid = compileRoute('a/{v:guid}');
    expect(guid.match('/a/3f2504e0-4f89-11d3-9a0c-0305e82c3301')).toBeDefined();
    expect(guid.match('/a/3f2504e04f8911d39a0c0305e82c3301')).toBeDefined();
    expect(guid.match('/a/%7B3f2504e0-4f89-11d3-9a0c-0305e82c3301%7D')).toBeDefined();
    expect(guid.match('/a/not-a-guid')).toBeUndefined();
  });

  it('supports constraints with arguments and chained constraints', () => {
    expect(compileRoute('a/{v:int:min(10)}').match('/a/9')).toBeUndefined();
    expect(compileRoute('a/{v:int:min(10)}').match('/a/10')).toEqual({ v: '10' });
    expect(compileRoute('a/{v:range(1,5)}').match('/a/6')).toBeUndefined();
    expect(compileRoute('a/{v:length(3)}').match('/a/abc')).toEqual({ v: 'abc' });
    expect(compileRoute('a/{v:maxlength(2)}').match('/a/abc')).toBeUndefined();
    expect(compileRoute('a/{v:regex(^\\d{{3}}$)}').match('/a/123')).toEqual({ v: '123' });
    expect(compileRoute('a/{v:regex(^\\d{{3}}$)}').match('/a/1234')).toBeUndefined();
  });

  it('combines a constraint with an optional marker', () => {
    const route = compileRoute('a/{v:int?}');
    expect(route.match('/a')).toEqual({});
    expect(route.match('/a/x')).toBeUndefined();
  });

  it('ignores unknown constraints instead of failing', () => {
    expect(compileRoute('a/{v:sparkly}').match('/a/anything')).toEqual({ v: 'anything' });
  });

  it('splits complex segments, making the separator of a trailing optional parameter optional', () => {
    const route = compileRoute('files/{name}.{ext?}');
    expect(route.match('/files/archive.tar.gz')).toEqual({ name: 'archive.tar', ext: 'gz' });
    expect(route.match('/files/readme')).toEqual({ name: 'readme' });
  });

  it('treats doubled braces as literal braces', () => {
    expect(compileRoute('a/{{literal}}').match('/a/%7Bliteral%7D')).toEqual({});
  });
});

describe('compareRoutePrecedence', () => {
  it('orders literals before constrained parameters, parameters and catch-alls', () => {
    const templates = ['api/{*rest}', 'api/{name}', 'api/{id:int}', 'api/special'];
    const ordered = templates
      .map(compileRoute)
      .sort(compareRoutePrecedence)
      .map((r) => r.template);
    expect(ordered).toEqual(['api/special', 'api/{id:int}', 'api/{name}', 'api/{*rest}']);
  });
});
