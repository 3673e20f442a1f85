import { z } from 'zod';
import { appendMessageSchema, chatMessageSchema, historyQuerySchema, sessionBodySchema } from '../chat/chat-schemas.js';
import { idSchema, isoTimestamp } from '../schemas.js';
import { putSessionSchema, sessionIdSchema } from '../sessions/session-schemas.js';
import { createTaskSchema, taskSchema, updateTaskSchema } from '../tasks/task-schemas.js';
import { profileSchema, putProfileSchema } from '../users/profile-schemas.js';
import { processMessageSchema } from '../workflow/conversation.js';

/**
 * The OpenAPI 3.1 description of the public HTTP contract (docs/http-api.md), generated from the
 * same zod schemas the functions parse requests with, so the two cannot drift apart.
 */
interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Success status → response body schema (undefined for no body). */
  responses: Record<number, z.ZodType | undefined>;
  /** Error statuses this operation can answer, besides 500 and 503. */
  errors: number[];
  anonymous?: boolean;
  headers?: Record<string, string>;
}

const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
  correlationId: z.string(),
});

const user = ['400', '401', '403'].map(Number);
const historyPage = z.object({ messages: z.array(chatMessageSchema), hasMore: z.boolean(), nextBefore: idSchema.optional() });
const chatSession = z.object({ session: z.record(z.string(), z.unknown()), expiresAt: isoTimestamp });
const workflowState = z.enum(['idle', 'awaiting_title', 'awaiting_description']);
const health = z.object({ status: z.enum(['ok', 'degraded']), stores: z.record(z.string(), z.enum(['ok', 'unavailable'])) });

const operations: Operation[] = [
  { method: 'get', path: '/health', summary: 'Health of both state stores', tag: 'Operations', responses: { 200: health }, errors: [], anonymous: true },
  {
    method: 'post',
    path: '/users/{userId}/chat/messages',
    summary: 'Append a chat message (idempotent by id)',
    tag: 'Chat history',
    body: appendMessageSchema,
    responses: { 201: z.object({ message: chatMessageSchema, count: z.number() }), 200: z.object({ message: chatMessageSchema, count: z.number() }) },
    errors: [...user, 409, 413, 415],
  },
  {
    method: 'get',
    path: '/users/{userId}/chat/messages',
    summary: 'Page through the chat history, newest first by page, oldest first within a page',
    tag: 'Chat history',
    query: historyQuerySchema,
    responses: { 200: historyPage },
    errors: user,
  },
  { method: 'delete', path: '/users/{userId}/chat/messages', summary: 'Clear the chat history', tag: 'Chat history', responses: { 204: undefined }, errors: [...user, 409] },
  {
    method: 'put',
    path: '/users/{userId}/chat/session',
    summary: 'Replace the chat session (≤ 64 KiB)',
    tag: 'Chat session',
    body: sessionBodySchema,
    responses: { 200: chatSession },
    errors: [...user, 413, 415],
  },
  { method: 'get', path: '/users/{userId}/chat/session', summary: 'Read the chat session', tag: 'Chat session', responses: { 200: chatSession }, errors: [...user, 404] },
  { method: 'delete', path: '/users/{userId}/chat/session', summary: 'Delete the chat session', tag: 'Chat session', responses: { 204: undefined }, errors: user },
  {
    method: 'get',
    path: '/users/{userId}/tasks',
    summary: 'List tasks (cache-aside; x-cache tells HIT, MISS or BYPASS)',
    tag: 'Tasks',
    responses: { 200: z.object({ tasks: z.array(taskSchema) }) },
    errors: user,
    headers: { 'x-cache': 'HIT, MISS or BYPASS' },
  },
  {
    method: 'post',
    path: '/users/{userId}/tasks',
    summary: 'Create a task',
    tag: 'Tasks',
    body: createTaskSchema,
    responses: { 201: z.object({ task: taskSchema }) },
    errors: [...user, 409, 413, 415],
    headers: { location: 'The new task', etag: 'The task version, for If-Match' },
  },
  {
    method: 'patch',
    path: '/users/{userId}/tasks/{taskId}',
    summary: 'Change a task; optional If-Match: "<version>"',
    tag: 'Tasks',
    body: updateTaskSchema,
    responses: { 200: z.object({ task: taskSchema }) },
    errors: [...user, 404, 409, 412, 413, 415],
  },
  { method: 'delete', path: '/users/{userId}/tasks/{taskId}', summary: 'Delete a task', tag: 'Tasks', responses: { 204: undefined }, errors: [...user, 404, 409] },
  {
    method: 'get',
    path: '/users/{userId}/profile',
    summary: 'Read the profile (cached; x-cache)',
    tag: 'Profile',
    responses: { 200: z.object({ profile: profileSchema }) },
    errors: [...user, 404],
    headers: { 'x-cache': 'HIT, MISS or BYPASS' },
  },
  {
    method: 'put',
    path: '/users/{userId}/profile',
    summary: 'Replace the profile',
    tag: 'Profile',
    body: putProfileSchema,
    responses: { 200: z.object({ profile: profileSchema }) },
    errors: [...user, 409, 413, 415],
  },
  {
    method: 'post',
    path: '/users/{userId}/chat/process',
    summary: 'Send one message to the task-creation chatbot',
    tag: 'Chatbot workflow',
    body: processMessageSchema,
    responses: { 200: z.object({ reply: z.string(), state: workflowState, task: taskSchema.optional() }) },
    errors: [...user, 409, 413, 415],
  },
  {
    method: 'get',
    path: '/users/{userId}/chat/workflow',
    summary: 'Where the chatbot conversation stands',
    tag: 'Chatbot workflow',
    responses: { 200: z.object({ state: workflowState, title: z.string().optional(), expiresAt: isoTimestamp.optional() }) },
    errors: user,
  },
  {
    method: 'put',
    path: '/sessions/{sessionId}',
    summary: 'Create or replace a session; the caller becomes its owner',
    tag: 'Session cache',
    body: putSessionSchema,
    responses: { 200: z.object({ sessionId: sessionIdSchema, expiresAt: isoTimestamp }) },
    errors: [400, 401, 404, 409, 413, 415],
  },
  {
    method: 'get',
    path: '/sessions/{sessionId}',
    summary: "Read one of the caller's sessions (a sliding one is extended)",
    tag: 'Session cache',
    responses: { 200: z.object({ sessionId: sessionIdSchema, data: z.record(z.string(), z.unknown()), expiresAt: isoTimestamp }) },
    errors: [400, 401, 404, 409],
  },
  {
    method: 'delete',
    path: '/sessions/{sessionId}',
    summary: "Delete one of the caller's sessions",
    tag: 'Session cache',
    responses: { 204: undefined },
    errors: [400, 401, 404, 409],
  },
];

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  400: 'Invalid request (validation_failed, invalid_json, unknown_cursor)',
  401: 'No or invalid caller identity',
  403: "Another user's data",
  404: 'Not found',
  409: 'A concurrent change won; safe to retry',
  412: 'If-Match did not match',
  413: 'Body too large',
  415: 'Body is not application/json',
  500: 'Internal error (reveals nothing; quote the correlation id)',
  503: 'A state store is unavailable; retry after Retry-After seconds',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function pathParameters(path: string) {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(name === 'sessionId' ? sessionIdSchema : idSchema, 'input'),
  }));
}

function queryParameters(query: z.ZodObject | undefined) {
  if (!query) return [];
  return Object.entries(query.shape).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema: jsonSchema(schema as z.ZodType, 'input'),
  }));
}

export function openApiDocument(serverUrl = '/api') {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(op.responses)) {
      responses[status] = {
        description: STATUS_TEXT[Number(status)] ?? '',
        ...(schema ? { content: { 'application/json': { schema: jsonSchema(schema, 'output') } } } : {}),
        ...(op.headers ? { headers: Object.fromEntries(Object.entries(op.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
      };
    }
    for (const status of [...op.errors, 500, 503]) {
      responses[String(status)] = { description: STATUS_TEXT[status] ?? '', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    paths[op.path] ??= {};
    (paths[op.path] as Record<string, unknown>)[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      parameters: [...pathParameters(op.path), ...queryParameters(op.query)],
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } } : {}),
      responses,
      ...(op.anonymous ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'dapr-state-functions',
      version: '0.1.0',
      description: 'Fast, safe, expiring state for chatbots and task apps, over Dapr state stores.',
    },
    servers: [{ url: serverUrl }],
    security: [{ platform: [] }, { trustedHeader: [] }],
    components: {
      schemas: { Error: jsonSchema(errorSchema, 'output') },
      securitySchemes: {
        platform: { type: 'apiKey', in: 'header', name: 'x-ms-client-principal', description: 'Injected by Container Apps authentication (AUTH_MODE=platform).' },
        trustedHeader: { type: 'apiKey', in: 'header', name: 'x-user-id', description: 'Set by a trusted upstream (AUTH_MODE=trusted-header); x-user-roles: State.Admin for admins.' },
      },
    },
    paths,
  };
}

/** A readable reference page, self-contained (no scripts, no external assets). */
export function apiReferencePage(): string {
  const html = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = operations
    .map(
      (op) =>
        `<tr><td>${html(op.tag)}</td><td><code>${op.method.toUpperCase()}</code></td><td><code>/api${html(op.path)}</code></td><td>${html(op.summary)}</td><td>${Object.keys(op.responses).join(', ')}${op.errors.length ? `; ${op.errors.join(', ')}` : ''}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dapr-state-functions API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}code{font-size:90%}</style>
</head><body>
<h1>dapr-state-functions API</h1>
<p>Every route is under <code>/api</code>; bodies are JSON. Errors are <code>{"error": {"code", "message", "details"?}, "correlationId"}</code>; every response carries <code>x-correlation-id</code>. The machine-readable description is <a href="openapi.json">openapi.json</a> (OpenAPI 3.1, generated from the request schemas).</p>
<table><thead><tr><th>Area</th><th>Method</th><th>Path</th><th>What it does</th><th>Statuses</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
