import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

describe('GET /api/openapi.json', () => {
  it('describes every registered function, with its method, without any identity', async () => {
    const response = await fetch(`${stack.api}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toBe('3.1.0');
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} /api${path}`));
    const served = stack.host.functions
      .filter((fn) => !['openapi', 'docs'].includes(fn.name))
      .flatMap((fn) => fn.methods.map((m) => `${m} /${fn.route}`));
    expect(documented.sort()).toEqual(served.sort());
  });

  it('generates request bodies from the same schemas the functions parse', async () => {
    const document = (await (await fetch(`${stack.api}/openapi.json`)).json()) as any;
    const append = document.paths['/users/{userId}/chat/messages'].post;
    const body = append.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['role', 'content']);
    expect(body.properties.role.enum).toEqual(['user', 'assistant', 'system']);
    expect(body.properties.content).toMatchObject({ minLength: 1, maxLength: 16_000 });
    expect(body.additionalProperties).toBe(false);
    expect(append.parameters[0]).toMatchObject({ name: 'userId', in: 'path', required: true });
    expect(Object.keys(append.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409', '503']));
    const history = document.paths['/users/{userId}/chat/messages'].get;
    expect(history.parameters.map((p: { name: string }) => p.name)).toEqual(['userId', 'limit', 'before']);
  });
});

describe('GET /api/docs', () => {
  it('serves a readable reference page listing every operation', async () => {
    const response = await fetch(`${stack.api}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await response.text();
    for (const path of ['/api/health', '/api/users/{userId}/tasks/{taskId}', '/api/sessions/{sessionId}', '/api/users/{userId}/chat/process']) {
      expect(page).toContain(path);
    }
  });
});
