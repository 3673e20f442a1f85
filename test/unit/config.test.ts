import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.js';

function problemsFor(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected loadConfig to reject the settings');
}

describe('configuration', () => {
  it('uses secure, documented defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      authMode: 'platform',
      logLevel: 'info',
      requestTimeoutMs: 5000,
      dapr: { host: '127.0.0.1', httpPort: 3500, timeoutMs: 3000, breakerThreshold: 5, breakerHalfOpenMs: 5000 },
      stores: { hot: 'statestore', durable: 'statestore-durable' },
      chat: { maxMessages: 50, historyTtlSeconds: 86_400, sessionTtlSeconds: 3600 },
      cache: { taskTtlSeconds: 300, userTtlSeconds: 1800 },
      workflow: { ttlSeconds: 600 },
      telemetry: {},
    });
  });

  it('reads every setting from the environment', () => {
    const config = loadConfig({
      AUTH_MODE: 'trusted-header',
      LOG_LEVEL: 'debug',
      DAPR_HOST: 'localhost',
      DAPR_HTTP_PORT: '3600',
      DAPR_TIMEOUT_MS: '1500',
      REQUEST_TIMEOUT_MS: '4000',
      STATE_BREAKER_THRESHOLD: '3',
      STATE_BREAKER_HALF_OPEN_MS: '250',
      STATE_STORE_NAME: 'hot',
      DURABLE_STATE_STORE_NAME: 'cold',
      CHAT_HISTORY_MAX_MESSAGES: '10',
      CHAT_HISTORY_TTL_SECONDS: '60',
      CHAT_SESSION_TTL_SECONDS: '61',
      TASK_CACHE_TTL_SECONDS: '62',
      USER_CACHE_TTL_SECONDS: '63',
      WORKFLOW_TTL_SECONDS: '64',
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000',
    });
    expect(config).toEqual({
      authMode: 'trusted-header',
      logLevel: 'debug',
      requestTimeoutMs: 4000,
      dapr: { host: 'localhost', httpPort: 3600, timeoutMs: 1500, breakerThreshold: 3, breakerHalfOpenMs: 250 },
      stores: { hot: 'hot', durable: 'cold' },
      chat: { maxMessages: 10, historyTtlSeconds: 60, sessionTtlSeconds: 61 },
      cache: { taskTtlSeconds: 62, userTtlSeconds: 63 },
      workflow: { ttlSeconds: 64 },
      telemetry: { connectionString: 'InstrumentationKey=00000000-0000-0000-0000-000000000000' },
    });
  });

  it('refuses a store call timeout that the request budget would always cut short', () => {
    expect(() => loadConfig({ DAPR_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '5000' })).toThrow(
      /DAPR_TIMEOUT_MS: must be below REQUEST_TIMEOUT_MS/,
    );
    expect(loadConfig({ DAPR_TIMEOUT_MS: '4999', REQUEST_TIMEOUT_MS: '5000' }).dapr.timeoutMs).toBe(4999);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ AUTH_MODE: '', DAPR_HTTP_PORT: '' }).authMode).toBe('platform');
  });

  it.each([
    ['AUTH_MODE', 'anonymous'],
    ['LOG_LEVEL', 'loud'],
    ['DAPR_HTTP_PORT', '70000'],
    ['DAPR_HTTP_PORT', 'abc'],
    ['DAPR_TIMEOUT_MS', '0'],
    ['REQUEST_TIMEOUT_MS', '10'],
    ['STATE_BREAKER_THRESHOLD', '0'],
    ['STATE_BREAKER_HALF_OPEN_MS', 'soon'],
    ['STATE_STORE_NAME', 'has space'],
    ['DURABLE_STATE_STORE_NAME', 'a||b'],
    ['CHAT_HISTORY_MAX_MESSAGES', '0'],
    ['CHAT_HISTORY_TTL_SECONDS', '1.5'],
    ['CHAT_SESSION_TTL_SECONDS', '-1'],
    ['TASK_CACHE_TTL_SECONDS', 'soon'],
    ['USER_CACHE_TTL_SECONDS', '0'],
    ['WORKFLOW_TTL_SECONDS', '99999999999'],
  ])('names %s when it is set to %j', (name, value) => {
    const problems = problemsFor({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(problems[0]).toContain(JSON.stringify(value));
  });

  it('reports every bad setting at once', () => {
    expect(problemsFor({ AUTH_MODE: 'x', LOG_LEVEL: 'y' }).map((p) => p.split(':')[0])).toEqual(['AUTH_MODE', 'LOG_LEVEL']);
  });
});

describe('local.settings.example.json', () => {
  it('lists every setting the app reads, each with a valid local value', async () => {
    const { readFile } = await import('node:fs/promises');
    const { settingsSchema } = await import('../../shared/config.js');
    const example = JSON.parse(await readFile(new URL('../../local.settings.example.json', import.meta.url), 'utf8'));
    const values: Record<string, string> = example.Values;
    for (const name of Object.keys(settingsSchema.shape)) expect(values).toHaveProperty(name);
    expect(() => loadConfig(values)).not.toThrow();
  });
});
