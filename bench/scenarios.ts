import autocannon from 'autocannon';
import { benchSeconds, CONNECTIONS, type HttpScenario, sidecarJournal, type Stack } from './measure.js';

/** The user whose history the history scenario reads and the bare server's /sdk reads (see main.ts). */
export const HISTORY_USER = 'bench-history';
export const HISTORY_KEY = `chat:history:${HISTORY_USER}`;
const TASKS_PER_USER = 3;
const SESSIONS_PER_KIND = 100;
const APPEND_USERS = 1000;
const message = JSON.stringify({ role: 'user', content: 'How do I reset my password?' });

const asUser = (user: string, body = false) => ({ 'x-user-id': user, ...(body ? { 'content-type': 'application/json' } : {}) });

async function send(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return response;
}

/** Many set-up requests at once through autocannon (exactly `amount`), failing on any non-2xx. */
async function sendMany(url: string, amount: number, request: (n: number) => autocannon.Request): Promise<void> {
  let n = 0;
  const result = await autocannon({
    url,
    connections: Math.min(CONNECTIONS, amount),
    amount,
    requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, ...request(n++) }) }],
  });
  const failed = result.non2xx + result.errors;
  if (failed > 0) throw new Error(`set-up requests to ${url}: ${failed} of ${amount} failed (${JSON.stringify(result.statusCodeStats)})`);
}

/** Deletes keys through the stand-in's state API (addressed without the app-id prefix, as the app does), 100 per transaction. */
async function deleteKeys(stack: Stack, store: string, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 100) {
    const operations = keys.slice(i, i + 100).map((key) => ({ operation: 'delete', request: { key } }));
    await send(`${stack.sidecarUrl}/v1.0/state/${store}/transaction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operations }),
    });
  }
}

/** Seeds the history the history scenario and the bare /sdk floor read: a full page of 20 and more. */
export async function seedHistory(stack: Pick<Stack, 'api'>, messages = 50): Promise<void> {
  for (let i = 0; i < messages; i += 1) {
    await send(`${stack.api}/users/${HISTORY_USER}/chat/messages`, {
      method: 'POST',
      headers: asUser(HISTORY_USER, true),
      body: JSON.stringify({ role: i % 2 ? 'assistant' : 'user', content: `message ${i}: how do I reset my password?` }),
    });
  }
}

const HISTORY_PATH = `/users/${HISTORY_USER}/chat/messages?limit=20`;

/** The history scenario's answer body, as the API gives it. */
export async function historyPage(stack: Stack): Promise<string> {
  return (await send(`${stack.api}${HISTORY_PATH}`, { headers: asUser(HISTORY_USER) })).text();
}

const get = (url: string, user?: string) => ({ url, requests: [{ method: 'GET' as const, ...(user ? { headers: asUser(user) } : {}) }] });

/** Round-robin over `count` paths, one per request. */
function rotating(url: string, count: number, path: (i: number) => string, request: autocannon.Request) {
  let n = 0;
  return {
    url,
    requests: [{ ...request, setupRequest: (req: autocannon.Request) => ({ ...req, path: path(n++ % count) }) }],
  };
}

let missRun = 0;
let missUsers: string[] = [];

export const httpScenarios: HttpScenario[] = [
  {
    key: 'sidecar-get',
    name: 'floor: raw sidecar GET (stand-in)',
    serving: 'sidecar',
    requests: (stack) => get(`${stack.sidecarUrl}/v1.0/state/statestore/${HISTORY_KEY}`),
  },
  {
    key: 'bare-noop',
    name: 'floor: bare node:http, no call',
    serving: 'bare',
    requests: (stack) => get(`${stack.bareUrl}/noop`),
  },
  {
    key: 'bare-sdk',
    name: 'floor: bare node:http + @dapr/dapr getBulk',
    serving: 'bare',
    requests: (stack) => get(`${stack.bareUrl}/sdk`),
  },
  {
    key: 'function-noop',
    name: 'floor: no-op function (host)',
    serving: 'host',
    requests: (stack) => get(`${stack.api}/bench/noop`),
  },
  {
    key: 'function-sdk',
    name: 'floor: function + the same @dapr/dapr call',
    serving: 'host',
    requests: (stack) => get(`${stack.api}/bench/sdk`),
  },
  {
    key: 'function-body',
    name: 'floor: function answering the history page',
    serving: 'host',
    requests: (stack) => get(`${stack.api}/bench/body`),
  },
  {
    key: 'history',
    name: 'GET chat history (20 of 50)',
    serving: 'host',
    requests: (stack) => get(`${stack.api}${HISTORY_PATH}`, HISTORY_USER),
  },
  {
    key: 'append-many',
    name: `POST chat message (${APPEND_USERS} users)`,
    serving: 'host',
    requests: (stack) => {
      let n = 0;
      return {
        url: stack.api,
        requests: [
          {
            method: 'POST',
            body: message,
            setupRequest: (req: autocannon.Request) => {
              const user = `bench-append-${n++ % APPEND_USERS}`;
              return { ...req, path: `/api/users/${user}/chat/messages`, headers: asUser(user, true) };
            },
          },
        ],
      };
    },
  },
  {
    key: 'append-one-user',
    name: 'POST chat message (1 user, 10 writers)',
    serving: 'host',
    // Ten writers on one document: a request may rarely spend its whole retry budget (409).
    allowedFailedShare: 0.01,
    requests: (stack) => ({
      url: `${stack.api}/users/bench-contended/chat/messages`,
      requests: [{ method: 'POST', body: message, headers: asUser('bench-contended', true) }],
    }),
  },
  {
    key: 'tasks-hit',
    name: `GET tasks, cache HIT (${TASKS_PER_USER} tasks)`,
    serving: 'host',
    expectHeader: { name: 'x-cache', value: 'HIT' },
    setup: async (stack) => {
      for (let i = 0; i < TASKS_PER_USER; i += 1) {
        await send(`${stack.api}/users/bench-tasks/tasks`, {
          method: 'POST',
          headers: asUser('bench-tasks', true),
          body: JSON.stringify({ title: `task ${i}` }),
        });
      }
    },
    requests: (stack) => get(`${stack.api}/users/bench-tasks/tasks`, 'bench-tasks'),
  },
  {
    key: 'tasks-miss',
    name: `GET tasks, cache MISS (${TASKS_PER_USER} tasks)`,
    serving: 'host',
    expectHeader: { name: 'x-cache', value: 'MISS' },
    once: true,
    // Mutations write the cache through, so a miss needs users whose cache entry is gone: each of
    // them is read exactly once. As many as the HIT rate suggests fit in about half the duration.
    // autocannon may build (never send) a request past the last one per connection: spare users.
    amount: () => missUsers.length - CONNECTIONS,
    setup: async (stack, results) => {
      const hitRps = results.get('tasks-hit')?.rps ?? 500;
      const users = Math.max(200, Math.min(3000, Math.round((hitRps * benchSeconds()) / 4))) + CONNECTIONS;
      missRun += 1;
      missUsers = Array.from({ length: users }, (_, i) => `bench-miss-${missRun}-${i}`);
      await sendMany(stack.api, users * TASKS_PER_USER, (n) => {
        const user = missUsers[n % users] ?? '';
        return {
          method: 'POST',
          path: `/api/users/${user}/tasks`,
          headers: asUser(user, true),
          body: JSON.stringify({ title: `task ${n}` }),
        };
      });
      await deleteKeys(
        stack,
        'statestore',
        missUsers.map((user) => `cache:tasks:${user}`),
      );
    },
    requests: (stack) => {
      let n = 0;
      return {
        url: stack.api,
        requests: [
          {
            method: 'GET',
            setupRequest: (req: autocannon.Request) => {
              const user = missUsers[n++] ?? 'bench-miss-none';
              return { ...req, path: `/api/users/${user}/tasks`, headers: asUser(user) };
            },
          },
        ],
      };
    },
  },
  {
    key: 'profile-get',
    name: 'GET profile',
    serving: 'host',
    setup: async (stack) => {
      await send(`${stack.api}/users/bench-profile/profile`, {
        method: 'PUT',
        headers: asUser('bench-profile', true),
        body: JSON.stringify({ displayName: 'Bench', preferences: { theme: 'dark' } }),
      });
    },
    requests: (stack) => get(`${stack.api}/users/bench-profile/profile`, 'bench-profile'),
  },
  {
    key: 'workflow',
    name: 'POST workflow steps (add → title → description)',
    serving: 'host',
    requests: (stack) => {
      let flows = 0;
      const say = (text: string, first = false): autocannon.Request => ({
        method: 'POST',
        body: JSON.stringify({ message: text }),
        setupRequest: (req, context) => {
          // The context starts empty for every pass through the three requests: one new user per flow.
          const flow = context as { user?: string };
          if (first || flow.user === undefined) flow.user = `bench-flow-${flows++}`;
          return { ...req, path: `/api/users/${flow.user}/chat/process`, headers: asUser(flow.user, true) };
        },
      });
      return { url: stack.api, requests: [say('add a task', true), say('Buy milk'), say('two litres')] };
    },
  },
  ...(['not sliding', 'sliding'] as const).map(
    (kind): HttpScenario => ({
      key: kind === 'sliding' ? 'session-sliding' : 'session',
      name: `GET session (${kind})`,
      serving: 'host',
      setup: async (stack) => {
        const sliding = kind === 'sliding';
        for (let i = 0; i < SESSIONS_PER_KIND; i += 1) {
          await send(`${stack.api}/sessions/${sessionId(sliding, i)}`, {
            method: 'PUT',
            headers: asUser('bench-sessions', true),
            body: JSON.stringify({ data: { cart: i, locale: 'en-GB' }, ttlSeconds: 600, sliding }),
          });
        }
      },
      requests: (stack) =>
        rotating(stack.api, SESSIONS_PER_KIND, (i) => `/api/sessions/${sessionId(kind === 'sliding', i)}`, {
          method: 'GET',
          headers: asUser('bench-sessions'),
        }),
    }),
  ),
];

function sessionId(sliding: boolean, i: number): string {
  return `bench-${sliding ? 'sliding' : 'fixed'}-${String(i).padStart(6, '0')}`;
}

/**
 * Sidecar calls of the workflow step that creates the task, counted on one flow with nothing else
 * running: the journal is reset just before the third message.
 */
export async function workflowCreateStepCalls(stack: Stack): Promise<number> {
  const user = `bench-flow-single-${Date.now()}`;
  const say = (text: string) =>
    send(`${stack.api}/users/${user}/chat/process`, {
      method: 'POST',
      headers: asUser(user, true),
      body: JSON.stringify({ message: text }),
    });
  await say('add a task');
  await say('Buy milk');
  await sidecarJournal(stack, true);
  const reply = (await (await say('two litres')).json()) as { task?: unknown };
  if (!reply.task) throw new Error(`the workflow's third step created no task: ${JSON.stringify(reply)}`);
  return (await sidecarJournal(stack)).stateCalls;
}
