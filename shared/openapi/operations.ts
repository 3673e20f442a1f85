import { z } from 'zod';
import type { ZodOpenApiResponseObject } from 'zod-openapi';
import { appendMessageSchema, chatMessageSchema, historyQuerySchema, SESSION_MAX_BYTES, sessionBodySchema } from '../chat/chat-schemas.js';
import { idSchema, isoTimestamp, userParamsSchema } from '../schemas.js';
import { putSessionSchema, SESSION_BODY_MAX_BYTES, sessionIdSchema, sessionParamsSchema } from '../sessions/session-schemas.js';
import { createTaskSchema, ifMatchSchema, taskParamsSchema, taskSchema, updateTaskSchema } from '../tasks/task-schemas.js';
import { profileSchema, putProfileSchema } from '../users/profile-schemas.js';
import { processMessageSchema } from '../workflow/conversation.js';
import { correlationIdHeader, type ErrorStatus, errorResponseWithHeaders, retryAfterHeader } from './error-responses.js';

/**
 * Every operation the functions register, described with the zod schemas they parse with. The route
 * and method of each must equal a function's `app.http` registration (test/integration/openapi.test.ts
 * checks both lists agree); the statuses follow docs/http-api.md.
 */
export interface OperationSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The function's route template, without the `/api` prefix. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** No identity needed. */
  anonymous?: boolean;
  pathParams?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers besides the ones every operation accepts (x-correlation-id, traceparent). */
  headers?: z.ZodObject;
  body?: { schema: z.ZodType; example: unknown; description?: string };
  /** Success responses, and any error response this operation answers differently (extra headers). */
  responses: Record<number, ZodOpenApiResponseObject>;
  /** Error statuses besides 500 and 503, which every operation can answer. */
  errors: ErrorStatus[];
}

export const TAGS = [
  { name: 'Chat history', description: 'A bounded, expiring window of messages per user (`statestore`).' },
  { name: 'Chat session', description: 'One JSON object per user that expires after an hour (`statestore`).' },
  { name: 'Tasks', description: 'Durable in `statestore-durable`, served through a cache in `statestore`.' },
  { name: 'Profile', description: 'Durable, cached like tasks.' },
  { name: 'Chatbot workflow', description: 'A task-creation conversation, one step per message.' },
  { name: 'Session cache', description: 'Sessions owned by their creator, optionally sliding.' },
  { name: 'Operations', description: 'Health and this description.' },
];

const idempotencyKey = idSchema.meta({
  description:
    'Makes a retry safe: the same key with the same body (after validation) within 24 h answers the first answer again (a 4xx included, except 409) and changes nothing; after a 409 or 5xx the retry runs again and converges on the same result; with another body → 422; while the first is still running → 409. Scoped to the user in the path and to this operation.',
  example: 'create-task-7f3a9c',
});
const idempotent = z.object({ 'Idempotency-Key': idempotencyKey.optional() });

const correlation = z.object({ 'x-correlation-id': correlationIdHeader });
const withCorrelation = <S extends z.ZodRawShape>(shape: S) => correlation.extend(shape);
const json = (schema: z.ZodType, example?: unknown) => ({ 'application/json': { schema, ...(example === undefined ? {} : { example }) } });
const ok = (description: string, schema: z.ZodType, example?: unknown, headers: z.ZodObject = correlation): ZodOpenApiResponseObject => ({
  description,
  headers,
  content: json(schema, example),
});
const noContent = (description: string): ZodOpenApiResponseObject => ({ description, headers: correlation });

const cacheHeader = z.enum(['HIT', 'MISS', 'BYPASS']).meta({
  description:
    'HIT: from the cache; MISS: read from the durable store and cached; BYPASS: the cache store is unavailable, answered from the durable store.',
});
const etagHeader = z
  .string()
  .regex(/^"\d+"$/)
  .meta({ description: 'The task version as a strong entity tag, for If-Match.', example: '"2"' });

const now = '2026-01-01T12:00:00.000Z';
const later = '2026-01-02T12:00:00.000Z';
const message = { id: 'msg-1', role: 'user', content: 'Hello!', timestamp: now };
const task = {
  id: 'k3j5x7fq2a',
  title: 'Buy milk',
  description: 'two litres',
  completed: false,
  createdAt: now,
  updatedAt: now,
  version: 1,
};
const profile = { userId: 'alice', displayName: 'Alice', preferences: { theme: 'dark' }, createdAt: now, updatedAt: now };

const messageResult = z.object({ message: chatMessageSchema, count: z.number().int().min(1) });
const historyPage = z.object({
  messages: z.array(chatMessageSchema).meta({ description: 'Oldest first.' }),
  hasMore: z.boolean(),
  nextBefore: idSchema.optional().meta({ description: 'Pass as `before` for the page before this one (when hasMore).' }),
});
const chatSession = z.object({ session: z.record(z.string(), z.unknown()), expiresAt: isoTimestamp });
const workflowStateName = z.enum(['idle', 'awaiting_title', 'awaiting_description']);
const taskResult = z.object({ task: taskSchema });
const profileResult = z.object({ profile: profileSchema });
const sessionSaved = z.object({ sessionId: sessionIdSchema, expiresAt: isoTimestamp });
export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  stores: z.record(z.string(), z.enum(['ok', 'unavailable'])),
});

const user: ErrorStatus[] = [400, 401, 403];

/** The functions' path schemas, with examples so the reference page's try-it requests come pre-filled. */
const userPath = z.object({ userId: userParamsSchema.shape.userId.meta({ example: 'alice' }) });
const taskPath = z.object({
  userId: taskParamsSchema.shape.userId.meta({ example: 'alice' }),
  taskId: taskParamsSchema.shape.taskId.meta({ example: 'k3j5x7fq2a' }),
});
const sessionPath = z.object({ sessionId: sessionParamsSchema.shape.sessionId.meta({ example: 'sess-0123456789abcdef' }) });
const write: ErrorStatus[] = [413, 415];

export const operations: OperationSpec[] = [
  {
    method: 'get',
    path: 'health',
    operationId: 'getHealth',
    summary: 'Health of both state stores',
    tag: 'Operations',
    anonymous: true,
    responses: {
      200: ok('Both stores answer.', healthSchema, { status: 'ok', stores: { statestore: 'ok', 'statestore-durable': 'ok' } }),
      503: ok(
        'A store does not answer; it is named.',
        healthSchema,
        { status: 'degraded', stores: { statestore: 'unavailable', 'statestore-durable': 'ok' } },
        withCorrelation({ 'retry-after': retryAfterHeader }),
      ),
    },
    errors: [],
  },
  {
    method: 'get',
    path: 'openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This description (OpenAPI 3.1)',
    tag: 'Operations',
    anonymous: true,
    responses: { 200: ok('The OpenAPI document, generated from the request schemas.', z.record(z.string(), z.unknown())) },
    errors: [],
  },
  {
    method: 'get',
    path: 'docs',
    operationId: 'getApiReference',
    summary: 'The API reference page',
    tag: 'Operations',
    anonymous: true,
    responses: {
      200: {
        description: 'An HTML page rendering this description; it loads nothing from other hosts.',
        headers: correlation,
        content: { 'text/html': { schema: z.string() } },
      },
    },
    errors: [],
  },
  {
    method: 'get',
    path: 'docs/scalar.js',
    operationId: 'getApiReferenceScript',
    summary: "The reference page's viewer (Scalar), served by the app itself",
    tag: 'Operations',
    anonymous: true,
    responses: { 200: { description: 'The script.', headers: correlation, content: { 'text/javascript': { schema: z.string() } } } },
    errors: [404],
  },
  {
    method: 'post',
    path: 'users/{userId}/chat/messages',
    operationId: 'appendChatMessage',
    summary: 'Append a chat message',
    description:
      'Keeps the newest messages (CHAT_HISTORY_MAX_MESSAGES, 50) that fit the history byte limit; the history expires CHAT_HISTORY_TTL_SECONDS (24 h) after the last append. An `id` already in the window answers 200 with the stored message and stores no copy. No append is lost to a concurrent one.',
    tag: 'Chat history',
    pathParams: userPath,
    headers: idempotent,
    body: { schema: appendMessageSchema, example: { role: 'user', content: 'Hello!', id: 'msg-1' } },
    responses: {
      201: ok('Appended.', messageResult, { message, count: 1 }),
      200: ok('A message with this id is already in the window; this is it.', messageResult, { message, count: 1 }),
    },
    errors: [...user, 409, ...write, 422],
  },
  {
    method: 'get',
    path: 'users/{userId}/chat/messages',
    operationId: 'listChatMessages',
    summary: 'Read the chat history, a page at a time',
    description: 'The newest `limit` messages older than `before` (or the newest overall), oldest first. No history → an empty page.',
    tag: 'Chat history',
    pathParams: userPath,
    query: historyQuerySchema,
    responses: { 200: ok('One page.', historyPage, { messages: [message], hasMore: false }) },
    errors: user,
  },
  {
    method: 'delete',
    path: 'users/{userId}/chat/messages',
    operationId: 'clearChatMessages',
    summary: 'Clear the chat history',
    tag: 'Chat history',
    pathParams: userPath,
    responses: { 204: noContent('Cleared (also when there was nothing).') },
    errors: [...user, 409],
  },
  {
    method: 'put',
    path: 'users/{userId}/chat/session',
    operationId: 'putChatSession',
    summary: 'Replace the chat session',
    description: `Any JSON object of at most ${SESSION_MAX_BYTES / 1024} KiB; it expires CHAT_SESSION_TTL_SECONDS (1 h) after this write.`,
    tag: 'Chat session',
    pathParams: userPath,
    body: { schema: sessionBodySchema, example: { topic: 'billing' } },
    responses: { 200: ok('Saved.', chatSession, { session: { topic: 'billing' }, expiresAt: later }) },
    errors: [...user, 409, ...write],
  },
  {
    method: 'get',
    path: 'users/{userId}/chat/session',
    operationId: 'getChatSession',
    summary: 'Read the chat session',
    tag: 'Chat session',
    pathParams: userPath,
    responses: { 200: ok('The session.', chatSession, { session: { topic: 'billing' }, expiresAt: later }) },
    errors: [...user, 404],
  },
  {
    method: 'delete',
    path: 'users/{userId}/chat/session',
    operationId: 'deleteChatSession',
    summary: 'Delete the chat session',
    tag: 'Chat session',
    pathParams: userPath,
    responses: { 204: noContent('Deleted (also when there was none).') },
    errors: user,
  },
  {
    method: 'get',
    path: 'users/{userId}/tasks',
    operationId: 'listTasks',
    summary: 'List tasks',
    description:
      'Sorted by `createdAt`. Served from the cache (TASK_CACHE_TTL_SECONDS, 5 min); a mutation that has responded is visible to later reads, except one made while the cache store was failing: that one shows within seconds of the store answering again.',
    tag: 'Tasks',
    pathParams: userPath,
    responses: {
      200: ok('The tasks.', z.object({ tasks: z.array(taskSchema) }), { tasks: [task] }, withCorrelation({ 'x-cache': cacheHeader })),
    },
    errors: user,
  },
  {
    method: 'post',
    path: 'users/{userId}/tasks',
    operationId: 'createTask',
    summary: 'Create a task',
    description: 'At most 500 tasks and 1 MiB per user; past that → 400.',
    tag: 'Tasks',
    pathParams: userPath,
    headers: idempotent,
    body: { schema: createTaskSchema, example: { title: 'Buy milk', description: 'two litres' } },
    responses: {
      201: ok(
        'Created.',
        taskResult,
        { task },
        withCorrelation({
          location: z.string().meta({ description: 'The new task.', example: '/api/users/alice/tasks/k3j5x7fq2a' }),
          etag: etagHeader,
        }),
      ),
    },
    errors: [...user, 409, ...write, 422],
  },
  {
    method: 'patch',
    path: 'users/{userId}/tasks/{taskId}',
    operationId: 'updateTask',
    summary: 'Change a task',
    description:
      'At least one field. With `If-Match`, only when the task is still at that version (else 412). A change that would grow the task list past its size limit → 400.',
    tag: 'Tasks',
    pathParams: taskPath,
    headers: z.object({
      'If-Match': ifMatchSchema.meta({
        description:
          'RFC 9110: `*`, or a comma-separated list of entity-tags such as `"3"` or `"3", "4"`, compared strongly with the task\'s `etag`. The change applies only when one tag names the current version: a stale tag → 412, and a weak tag (`W/"3"`) never matches → 412. `*` matches any existing task (no task → 404). A value that is not `*` or an entity-tag list → 400.',
        example: '"1"',
      }),
    }),
    body: { schema: updateTaskSchema, example: { completed: true } },
    responses: {
      200: ok('Changed.', taskResult, { task: { ...task, completed: true, version: 2 } }, withCorrelation({ etag: etagHeader })),
    },
    errors: [...user, 404, 409, 412, ...write],
  },
  {
    method: 'delete',
    path: 'users/{userId}/tasks/{taskId}',
    operationId: 'deleteTask',
    summary: 'Delete a task',
    tag: 'Tasks',
    pathParams: taskPath,
    responses: { 204: noContent('Deleted.') },
    errors: [...user, 404, 409],
  },
  {
    method: 'get',
    path: 'users/{userId}/profile',
    operationId: 'getProfile',
    summary: 'Read the profile',
    description: 'Cached for USER_CACHE_TTL_SECONDS (30 min); `x-cache` also on the 404.',
    tag: 'Profile',
    pathParams: userPath,
    responses: {
      200: ok('The profile.', profileResult, { profile }, withCorrelation({ 'x-cache': cacheHeader })),
      404: errorResponseWithHeaders(404, z.object({ 'x-cache': cacheHeader })),
    },
    errors: user,
  },
  {
    method: 'put',
    path: 'users/{userId}/profile',
    operationId: 'putProfile',
    summary: 'Create or replace the profile',
    tag: 'Profile',
    pathParams: userPath,
    body: { schema: putProfileSchema, example: { displayName: 'Alice', preferences: { theme: 'dark' } } },
    responses: { 200: ok('Saved.', profileResult, { profile }) },
    errors: [...user, 409, ...write],
  },
  {
    method: 'post',
    path: 'users/{userId}/chat/process',
    operationId: 'processChatMessage',
    summary: 'Send one message to the task-creation chatbot',
    description:
      '"add a task" starts a flow: the bot asks for a title, then a description, then creates the task (once, also when retried). "cancel" stops at any step. The flow expires WORKFLOW_TTL_SECONDS (10 min) after its last step. Two concurrent messages never both advance a step: one gets 409. The message and the reply are appended to the chat history.',
    tag: 'Chatbot workflow',
    pathParams: userPath,
    headers: idempotent,
    body: { schema: processMessageSchema, example: { message: 'add a task' } },
    responses: {
      200: ok('The reply and the new state.', z.object({ reply: z.string(), state: workflowStateName, task: taskSchema.optional() }), {
        reply: 'What should the task be called?',
        state: 'awaiting_title',
      }),
    },
    errors: [...user, 409, ...write, 422],
  },
  {
    method: 'get',
    path: 'users/{userId}/chat/workflow',
    operationId: 'getChatWorkflow',
    summary: 'Where the chatbot conversation stands',
    tag: 'Chatbot workflow',
    pathParams: userPath,
    responses: {
      200: ok('The state.', z.object({ state: workflowStateName, title: z.string().optional(), expiresAt: isoTimestamp.optional() }), {
        state: 'idle',
      }),
    },
    errors: user,
  },
  {
    method: 'put',
    path: 'sessions/{sessionId}',
    operationId: 'putSession',
    summary: 'Create or replace a session',
    description: `The caller becomes its owner; a session owned by someone else answers 404. \`data\` is at most ${SESSION_BODY_MAX_BYTES / 1024 - 1} KiB.`,
    tag: 'Session cache',
    pathParams: sessionPath,
    body: { schema: putSessionSchema, example: { data: { cart: 3 }, ttlSeconds: 600, sliding: true } },
    responses: { 200: ok('Saved.', sessionSaved, { sessionId: 'sess-0123456789abcdef', expiresAt: later }) },
    errors: [400, 401, 404, 409, ...write],
  },
  {
    method: 'get',
    path: 'sessions/{sessionId}',
    operationId: 'getSession',
    summary: "Read one of the caller's sessions",
    description:
      "A sliding session's expiry moves forward (written at most once per tenth of its TTL). Absent, expired and someone else's all answer 404.",
    tag: 'Session cache',
    pathParams: sessionPath,
    responses: {
      200: ok('The session.', z.object({ sessionId: sessionIdSchema, data: z.record(z.string(), z.unknown()), expiresAt: isoTimestamp }), {
        sessionId: 'sess-0123456789abcdef',
        data: { cart: 3 },
        expiresAt: later,
      }),
    },
    errors: [400, 401, 404],
  },
  {
    method: 'delete',
    path: 'sessions/{sessionId}',
    operationId: 'deleteSession',
    summary: "Delete one of the caller's sessions",
    description: 'Absent, expired and owned by someone else all answer 404, so a stranger learns nothing about an id.',
    tag: 'Session cache',
    pathParams: sessionPath,
    responses: { 204: noContent('Deleted.') },
    errors: [400, 401, 404, 409],
  },
];
