import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../shared/openapi/error-responses.js';
import { uniqueId } from '../support/ids.js';
import { outageSwitch } from '../support/outage.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Calls every documented operation on the local runtime and checks each answer against the document
 * the app serves: the status is documented for that operation, the body validates against the
 * documented schema (or is empty when none is documented), every required response header is there
 * and valid, every header the API defines that appears is documented, and an error's code belongs to
 * its status. So the document and the code cannot disagree on anything a test exercises.
 */

type Json = any;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const outage = outageSwitch();
let stack: Stack;
let document: Json;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
/** operationId → statuses seen. */
const seen = new Map<string, Set<number>>();
/** Response headers this API defines; if one appears, the operation's response must document it. */
const API_HEADERS = ['etag', 'location', 'x-cache', 'retry-after', 'x-correlation-id'];

beforeAll(async () => {
  stack = await startStack({}, { createBackend: outage.createBackend });
  document = await (await fetch(`${stack.api}/openapi.json`)).json();
  ajv.addSchema(document, 'openapi.json');
});

afterAll(async () => {
  await stack?.close();
});

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function resolve(node: Json): { node: Json; at: string } | undefined {
  if (node?.$ref) {
    const at = (node.$ref as string).slice(1);
    const target = at
      .split('/')
      .slice(1)
      .reduce((value: Json, part: string) => value?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], document);
    return { node: target, at };
  }
  return undefined;
}

function validate(at: string, value: unknown, what: string) {
  const check = ajv.getSchema(`openapi.json#${at}`) ?? ajv.compile({ $ref: `openapi.json#${at}` });
  const valid = check(value);
  expect(valid, `${what}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(value).slice(0, 400)}`).toBe(true);
}

function operationById(operationId: string): { path: string; method: string; operation: Json } {
  for (const [path, item] of Object.entries<Json>(document.paths)) {
    for (const [method, operation] of Object.entries<Json>(item)) {
      if (operation.operationId === operationId) return { path, method, operation };
    }
  }
  throw new Error(`no operation ${operationId} in the document`);
}

interface Request {
  path: Record<string, string>;
  query?: Record<string, string>;
  user?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Sends one request to a documented operation and checks the answer against the document. */
async function exercise(operationId: string, request: Request): Promise<{ status: number; body: Json; headers: Headers }> {
  const { path, method, operation } = operationById(operationId);
  const url = new URL(`${stack.api}${path.replace(/\{(\w+)\}/g, (_, name: string) => request.path[name] ?? `{${name}}`)}`);
  for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
  const headers: Record<string, string> = { ...request.headers };
  if (request.user) headers['x-user-id'] = request.user;
  let body: string | undefined;
  if (request.body !== undefined) {
    body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: method.toUpperCase(), headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const { status } = response;
  const what = `${operationId} → ${status}`;

  const documented = operation.responses[String(status)];
  expect(documented, `${what} is not a documented status (${Object.keys(operation.responses)})`).toBeDefined();
  const ref = resolve(documented);
  const responseObject = ref?.node ?? documented;
  const responseAt = ref?.at ?? `/${pointer('paths', path, method, 'responses', String(status))}`;

  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
  let parsed: Json;
  if (responseObject.content) {
    expect(Object.keys(responseObject.content), `${what}: content-type`).toContain(contentType);
    if (contentType === 'application/json') {
      parsed = JSON.parse(text);
      validate(`${responseAt}/${pointer('content', contentType, 'schema')}`, parsed, `${what} body`);
    }
  } else {
    expect(text, `${what} has a body but documents none`).toBe('');
  }

  const documentedHeaders = responseObject.headers ?? {};
  const documentedNames = Object.keys(documentedHeaders).map((name) => name.toLowerCase());
  for (const [name, header] of Object.entries<Json>(documentedHeaders)) {
    const headerRef = resolve(header);
    const headerObject = headerRef?.node ?? header;
    const headerAt = headerRef?.at ?? `${responseAt}/${pointer('headers', name)}`;
    const value = response.headers.get(name);
    if (headerObject.required) expect(value, `${what}: required header ${name}`).not.toBeNull();
    if (value !== null) validate(`${headerAt}/schema`, value, `${what} header ${name}`);
  }
  for (const name of API_HEADERS) {
    if (response.headers.has(name)) expect(documentedNames, `${what}: header ${name} is sent but not documented`).toContain(name);
  }

  if (status >= 400 && contentType === 'application/json') {
    const codes: readonly string[] = ERROR_CODES[status as keyof typeof ERROR_CODES] ?? [];
    expect(codes, `${what}: error code`).toContain(parsed.error.code);
  }
  if (!seen.has(operationId)) seen.set(operationId, new Set());
  seen.get(operationId)?.add(status);
  return { status, body: parsed, headers: response.headers };
}

describe('every documented operation answers as documented', () => {
  const alice = uniqueId('alice');
  const bob = uniqueId('bob');
  const user = { userId: alice };

  it('operations', async () => {
    expect((await exercise('getHealth', { path: {} })).status).toBe(200);
    expect((await exercise('getOpenApiDocument', { path: {} })).status).toBe(200);
    expect((await exercise('getApiReference', { path: {} })).status).toBe(200);
    expect((await exercise('getApiReferenceScript', { path: {} })).status).toBe(200);
  });

  it('chat history', async () => {
    const message = { role: 'user', content: 'Hello!', id: 'msg-1' };
    expect(
      (await exercise('appendChatMessage', { path: user, user: alice, body: message, headers: { 'Idempotency-Key': uniqueId('k') } }))
        .status,
    ).toBe(201);
    expect((await exercise('appendChatMessage', { path: user, user: alice, body: message })).status).toBe(200);
    expect((await exercise('appendChatMessage', { path: user, user: alice, body: { role: 'robot', content: '' } })).status).toBe(400);
    expect((await exercise('appendChatMessage', { path: user, user: alice, body: '{"role":' })).status).toBe(400);
    expect((await exercise('appendChatMessage', { path: user, body: message })).status).toBe(401);
    expect((await exercise('appendChatMessage', { path: user, user: bob, body: message })).status).toBe(403);
    expect(
      (await exercise('appendChatMessage', { path: user, user: alice, body: { role: 'user', content: 'x'.repeat(300 * 1024) } })).status,
    ).toBe(413);
    expect(
      (await exercise('appendChatMessage', { path: user, user: alice, body: 'hi', headers: { 'content-type': 'text/plain' } })).status,
    ).toBe(415);
    expect((await exercise('listChatMessages', { path: user, user: alice, query: { limit: '10' } })).status).toBe(200);
    expect((await exercise('listChatMessages', { path: user, user: alice, query: { before: 'no-such-message' } })).status).toBe(400);
    expect((await exercise('listChatMessages', { path: { userId: 'bad:id' }, user: alice })).status).toBe(400);
    expect((await exercise('clearChatMessages', { path: user, user: alice })).status).toBe(204);
  });

  it('chat session', async () => {
    expect((await exercise('putChatSession', { path: user, user: alice, body: { topic: 'billing' } })).status).toBe(200);
    expect((await exercise('getChatSession', { path: user, user: alice })).status).toBe(200);
    expect((await exercise('deleteChatSession', { path: user, user: alice })).status).toBe(204);
    expect((await exercise('getChatSession', { path: user, user: alice })).status).toBe(404);
  });

  it('tasks', async () => {
    const created = await exercise('createTask', {
      path: user,
      user: alice,
      body: { title: 'Buy milk' },
      headers: { 'Idempotency-Key': uniqueId('k') },
    });
    expect(created.status).toBe(201);
    const taskId = created.body.task.id;
    expect((await exercise('listTasks', { path: user, user: alice })).status).toBe(200);
    const task = { userId: alice, taskId };
    expect(
      (await exercise('updateTask', { path: task, user: alice, headers: { 'If-Match': '"1"' }, body: { completed: true } })).status,
    ).toBe(200);
    expect(
      (await exercise('updateTask', { path: task, user: alice, headers: { 'If-Match': '"1"' }, body: { completed: false } })).status,
    ).toBe(412);
    expect((await exercise('updateTask', { path: { userId: alice, taskId: 'nope' }, user: alice, body: { completed: true } })).status).toBe(
      404,
    );
    expect((await exercise('deleteTask', { path: task, user: alice })).status).toBe(204);
    expect((await exercise('deleteTask', { path: task, user: alice })).status).toBe(404);
  });

  it('profile', async () => {
    expect((await exercise('getProfile', { path: user, user: alice })).status).toBe(404);
    expect(
      (await exercise('putProfile', { path: user, user: alice, body: { displayName: 'Alice', preferences: { theme: 'dark' } } })).status,
    ).toBe(200);
    expect((await exercise('getProfile', { path: user, user: alice })).status).toBe(200);
  });

  it('chatbot workflow', async () => {
    expect((await exercise('processChatMessage', { path: user, user: alice, body: { message: 'add a task' } })).status).toBe(200);
    expect((await exercise('getChatWorkflow', { path: user, user: alice })).status).toBe(200);
  });

  it('session cache', async () => {
    const session = { sessionId: uniqueId('session-cache') };
    expect(
      (await exercise('putSession', { path: session, user: alice, body: { data: { cart: 3 }, ttlSeconds: 600, sliding: true } })).status,
    ).toBe(200);
    expect((await exercise('getSession', { path: session, user: alice })).status).toBe(200);
    expect((await exercise('getSession', { path: session, user: bob })).status).toBe(404);
    expect((await exercise('getSession', { path: session })).status).toBe(401);
    expect((await exercise('deleteSession', { path: session, user: alice })).status).toBe(204);
  });

  it('with the hot store down: tasks bypass the cache, other reads answer 503 with Retry-After', async () => {
    outage.takeDown('statestore');
    try {
      const list = await exercise('listTasks', { path: user, user: alice });
      expect([list.status, list.headers.get('x-cache')]).toEqual([200, 'BYPASS']);
      const read = await exercise('getChatSession', { path: user, user: alice });
      expect(read.status).toBe(503);
      expect(read.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      outage.bringBack('statestore');
    }
  });

  it('exercised every documented operation with a success status', () => {
    const operationIds = Object.values<Json>(document.paths).flatMap((item) =>
      Object.values<Json>(item).map((op) => op.operationId as string),
    );
    const succeeded = operationIds.filter((id) => [...(seen.get(id) ?? [])].some((status) => status < 300));
    expect(succeeded.sort()).toEqual(operationIds.sort());
  });
});
