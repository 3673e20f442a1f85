import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument, openApiJson } from '../../shared/openapi/openapi-document.js';
import { projectRoot, startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let document: any;

beforeAll(async () => {
  stack = await startStack();
  document = await (await fetch(`${stack.api}/openapi.json`)).json();
});

afterAll(async () => {
  await stack.close();
});

const operations = () =>
  Object.entries<any>(document.paths).flatMap(([path, item]) => Object.entries<any>(item).map(([method, op]) => ({ path, method, op })));
const operation = (id: string) => operations().find(({ op }) => op.operationId === id);
const headerParameters = (id: string) => (operation(id)?.op.parameters ?? []).filter((p: any) => p.in === 'header').map((p: any) => p.name);

describe('GET /api/openapi.json', () => {
  it('describes every registered function, with its method, without any identity', async () => {
    const documented = operations().map(({ path, method }) => `${method.toUpperCase()} /api${path}`);
    const served = stack.host.functions.flatMap((fn) => fn.methods.map((m) => `${m} /${fn.route}`));
    expect(documented.sort()).toEqual(served.sort());
  });

  it('is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('passes the Redocly recommended lint rules with no problem', async () => {
    // The three anonymous operations (health, this document, the docs page) have no client error to document.
    const config = await createConfig({ extends: ['recommended'], rules: { 'operation-4xx-response': 'off' } });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: '/openapi.json', config });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  });

  it('gives every operation a unique, stable operationId', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operation('createTask')).toMatchObject({ method: 'post', path: '/users/{userId}/tasks' });
  });

  it('generates request bodies from the same schemas the functions parse', () => {
    const append = document.paths['/users/{userId}/chat/messages'].post;
    const body = append.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['role', 'content']);
    expect(body.properties.role.enum).toEqual(['user', 'assistant', 'system']);
    expect(body.properties.content).toMatchObject({ minLength: 1, maxLength: 16_000 });
    expect(body.additionalProperties).toBe(false);
    expect(append.parameters[0]).toMatchObject({ name: 'userId', in: 'path', required: true });
    const history = document.paths['/users/{userId}/chat/messages'].get;
    expect(history.parameters.filter((p: any) => p.in && p.in !== 'header').map((p: any) => p.name)).toEqual(['userId', 'limit', 'before']);
  });

  it('documents the request headers: Idempotency-Key on creating POSTs, If-Match on PATCH, the correlation id everywhere', () => {
    for (const id of ['appendChatMessage', 'createTask', 'processChatMessage']) expect(headerParameters(id)).toContain('Idempotency-Key');
    expect(headerParameters('updateTask')).toContain('If-Match');
    expect(document.components.parameters.CorrelationIdRequest).toMatchObject({ in: 'header', name: 'x-correlation-id' });
    for (const { op } of operations()) expect(op.parameters).toContainEqual({ $ref: '#/components/parameters/CorrelationIdRequest' });
  });

  it('documents the response headers: ETag and Location, x-cache, Retry-After on every 503', () => {
    const headers = (id: string, status: string) => Object.keys(operation(id)?.op.responses[status].headers ?? {});
    expect(headers('createTask', '201')).toEqual(expect.arrayContaining(['location', 'etag', 'x-correlation-id']));
    expect(headers('updateTask', '200')).toContain('etag');
    expect(headers('listTasks', '200')).toContain('x-cache');
    expect(headers('getProfile', '404')).toContain('x-cache');
    expect(headers('getHealth', '503')).toContain('retry-after');
    expect(document.components.responses.Unavailable.headers['retry-after']).toBeDefined();
    for (const { op } of operations()) {
      expect(op.responses['503']).toBeDefined();
      expect(op.responses['500']).toEqual({ $ref: '#/components/responses/InternalError' });
    }
  });

  it('documents every error status of the contract with its codes, and the unknown outcome of a 503', () => {
    const responses = document.components.responses;
    expect(Object.keys(responses).sort()).toEqual(
      [
        'BadRequest',
        'Conflict',
        'Forbidden',
        'IdempotencyKeyReused',
        'InternalError',
        'NotFound',
        'PayloadTooLarge',
        'PreconditionFailed',
        'RequestTimeout',
        'Unauthenticated',
        'Unavailable',
        'UnsupportedMediaType',
      ].sort(),
    );
    const error = document.components.schemas.Error.properties.error;
    expect(error.properties.code.enum).toEqual(expect.arrayContaining(['idempotency_key_reused', 'precondition_failed', 'unknown_cursor']));
    expect(error.properties.outcome).toMatchObject({ const: 'unknown' });
    expect(operation('createTask')?.op.responses['422']).toEqual({ $ref: '#/components/responses/IdempotencyKeyReused' });
    expect(operation('updateTask')?.op.responses['412']).toEqual({ $ref: '#/components/responses/PreconditionFailed' });
  });

  it("documents the host's own answers: 408 on every operation, and a 413 with no body or correlation id over the host limit", () => {
    const settings = JSON.parse(readFileSync(resolve(projectRoot, 'local.settings.example.json'), 'utf8'));
    const hostLimit = settings.Values.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
    const responses = document.components.responses;
    for (const { op } of operations()) expect(op.responses['408']).toEqual({ $ref: '#/components/responses/RequestTimeout' });
    expect(responses.RequestTimeout.content).toBeUndefined();
    expect(responses.PayloadTooLarge.description).toContain(`${hostLimit} bytes`);
    expect(responses.PayloadTooLarge.description).toMatch(/empty body and no `x-correlation-id`/);
    expect(responses.PayloadTooLarge.headers['x-correlation-id'].required).not.toBe(true);
    expect(responses.BadRequest.description).toMatch(/`If-Match` or `Idempotency-Key` header/);
    expect(document.info.description).toMatch(/408/);
    expect(document.info.description).not.toMatch(/answered within REQUEST_TIMEOUT_MS/);
  });

  it('describes If-Match: the list syntax, weak tags and stale tags → 412, * on a missing task → 404, malformed → 400', () => {
    const ifMatch = operation('updateTask')?.op.parameters.find((p: any) => p.name === 'If-Match');
    expect(ifMatch.description).toMatch(/comma-separated list of entity-tags/);
    expect(ifMatch.description).toMatch(/weak tag .* never matches → 412/);
    expect(ifMatch.description).toMatch(/`\*` matches any existing task \(no task → 404\)/);
    expect(ifMatch.description).toMatch(/→ 400/);
  });

  it('tells callers of an unknown-outcome 503 to reuse the Idempotency-Key only where the operation takes one', () => {
    const unavailable = (id: string) => {
      const response = operation(id)?.op.responses['503'];
      return response.$ref ? document.components.responses.Unavailable : response;
    };
    for (const id of ['appendChatMessage', 'createTask', 'processChatMessage']) {
      expect(unavailable(id).description).toMatch(/retry with the same `Idempotency-Key`/);
    }
    for (const id of [
      'updateTask',
      'deleteTask',
      'putProfile',
      'putChatSession',
      'deleteChatSession',
      'clearChatMessages',
      'putSession',
      'deleteSession',
    ]) {
      expect(unavailable(id).description).not.toMatch(/same `Idempotency-Key`/);
      expect(unavailable(id).description).toMatch(/read the resource back/);
    }
    expect(document.components.responses.Unavailable.description).not.toMatch(/Idempotency-Key/);
  });

  it('shares schemas as components instead of inlining them', () => {
    const text = JSON.stringify(document);
    expect(document.components.schemas.Task).toBeDefined();
    expect(text.match(/"#\/components\/schemas\/Task"/g)?.length).toBeGreaterThanOrEqual(4);
    expect(text.match(/"createdAt":\{/g)?.length).toBe(2); // as a schema property: in Task and Profile, each defined once
  });

  it('describes platform identity as a bearer token and the local mode as the x-user-id header', () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.components.securitySchemes.bearerAuth.description).toContain('Container Apps authentication');
    expect(document.components.securitySchemes.userIdHeader).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-user-id' });
    expect(document.security).toEqual([{ bearerAuth: [] }, { userIdHeader: [] }]);
    expect(operation('getHealth')?.op.security).toEqual([]);
  });

  it('is built once per process and served as the same bytes every time', async () => {
    expect(openApiJson()).toBe(openApiJson());
    expect(JSON.parse(openApiJson())).toEqual(openApiDocument());
    const [first, second] = await Promise.all([1, 2].map(async () => (await fetch(`${stack.api}/openapi.json`)).text()));
    expect(second).toBe(first);
    expect(JSON.parse(first ?? '')).toEqual(document);
  });
});

describe('GET /api/docs', () => {
  it('serves the reference page and the viewer script it loads, from this app', async () => {
    const response = await fetch(`${stack.api}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await response.text();
    expect(page).toContain('<script src="docs/scalar.js"></script>');
    expect(page).not.toMatch(/https?:\/\//);
    const script = await fetch(`${stack.api}/docs/scalar.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
  });

  it('pre-fills x-user-id for try-it requests locally', async () => {
    const page = await (await fetch(`${stack.api}/docs`)).text();
    expect(page).toContain('"preferredSecurityScheme":"userIdHeader"');
    expect(page).toContain('"withDefaultFonts":false');
  });
});
