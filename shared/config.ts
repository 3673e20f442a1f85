import { z } from 'zod';

const seconds = (fallback: number) => z.coerce.number().int().min(1).max(31_536_000).default(fallback);

/**
 * Every setting the app reads. The names are shared with local.settings.example.json and infra/;
 * add a setting here first. Empty strings count as unset.
 */
export const settingsSchema = z.object({
  AUTH_MODE: z.enum(['platform', 'trusted-header']).default('platform'),
  /** Entra app registration behind Container Apps authentication; unset: platform mode trusts no caller. */
  AUTH_CLIENT_ID: z.guid().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DAPR_HOST: z.string().min(1).default('127.0.0.1'),
  DAPR_HTTP_PORT: z.coerce.number().int().min(1).max(65_535).default(3500),
  DAPR_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(3000),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(230_000).default(5000),
  STATE_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  STATE_BREAKER_HALF_OPEN_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  STATE_STORE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('statestore'),
  DURABLE_STATE_STORE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('statestore-durable'),
  CHAT_HISTORY_MAX_MESSAGES: z.coerce.number().int().min(1).max(1000).default(50),
  CHAT_HISTORY_TTL_SECONDS: seconds(86_400),
  CHAT_SESSION_TTL_SECONDS: seconds(3600),
  TASK_CACHE_TTL_SECONDS: seconds(300),
  USER_CACHE_TTL_SECONDS: seconds(1800),
  WORKFLOW_TTL_SECONDS: seconds(600),
  /** Set by infra in Azure; locally, set it only to send telemetry to Application Insights. */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
});

export type Settings = z.infer<typeof settingsSchema>;

export interface Config {
  authMode: Settings['AUTH_MODE'];
  /** Set only where Container Apps authentication validates tokens for this app registration. */
  authClientId: string | undefined;
  logLevel: Settings['LOG_LEVEL'];
  /** One budget per request, shared by all its store calls and retries (→ 503 past it). */
  requestTimeoutMs: number;
  dapr: { host: string; httpPort: number; timeoutMs: number; breakerThreshold: number; breakerHalfOpenMs: number };
  stores: { hot: string; durable: string };
  chat: { maxMessages: number; historyTtlSeconds: number; sessionTtlSeconds: number };
  cache: { taskTtlSeconds: number; userTtlSeconds: number };
  workflow: { ttlSeconds: number };
  telemetry: { connectionString?: string };
}

/** Settings whose values must never be echoed, should one be added. */
const SECRET_NAME = /secret|password|token|key|connection/i;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; a bad value throws a ConfigError naming every bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(settingsSchema.shape);
  const input = Object.fromEntries(known.map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        return `${name}: ${issue.message} (got ${SECRET_NAME.test(name) ? '[redacted]' : JSON.stringify(input[name])})`;
      }),
    );
  }
  const s = parsed.data;
  if (s.DAPR_TIMEOUT_MS >= s.REQUEST_TIMEOUT_MS) {
    // Otherwise every timeout is cut short by the request's budget, and a hung sidecar never opens the circuit.
    throw new ConfigError([`DAPR_TIMEOUT_MS: must be below REQUEST_TIMEOUT_MS (got ${s.DAPR_TIMEOUT_MS} and ${s.REQUEST_TIMEOUT_MS})`]);
  }
  return {
    authMode: s.AUTH_MODE,
    authClientId: s.AUTH_CLIENT_ID,
    logLevel: s.LOG_LEVEL,
    requestTimeoutMs: s.REQUEST_TIMEOUT_MS,
    dapr: {
      host: s.DAPR_HOST,
      httpPort: s.DAPR_HTTP_PORT,
      timeoutMs: s.DAPR_TIMEOUT_MS,
      breakerThreshold: s.STATE_BREAKER_THRESHOLD,
      breakerHalfOpenMs: s.STATE_BREAKER_HALF_OPEN_MS,
    },
    stores: { hot: s.STATE_STORE_NAME, durable: s.DURABLE_STATE_STORE_NAME },
    chat: {
      maxMessages: s.CHAT_HISTORY_MAX_MESSAGES,
      historyTtlSeconds: s.CHAT_HISTORY_TTL_SECONDS,
      sessionTtlSeconds: s.CHAT_SESSION_TTL_SECONDS,
    },
    cache: { taskTtlSeconds: s.TASK_CACHE_TTL_SECONDS, userTtlSeconds: s.USER_CACHE_TTL_SECONDS },
    workflow: { ttlSeconds: s.WORKFLOW_TTL_SECONDS },
    telemetry: s.APPLICATIONINSIGHTS_CONNECTION_STRING ? { connectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING } : {},
  };
}
