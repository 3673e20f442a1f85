import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HostLogger } from './log.js';

/** The real host's request body limit when FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is unset (ScriptConstants). */
export const defaultRequestBodySizeLimit = 104_857_600;

export const requestBodySizeLimitSetting = 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT';

/**
 * FUNCTIONS_REQUEST_BODY_SIZE_LIMIT in bytes, read like the real host reads it: a whole number of
 * bytes; anything else leaves the 100 MB default in place (the real host ignores it silently, this
 * one says so).
 */
export function requestBodySizeLimit(env: NodeJS.ProcessEnv, logger?: HostLogger): number {
  const text = env[requestBodySizeLimitSetting];
  if (text === undefined || text === '') return defaultRequestBodySizeLimit;
  const limit = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(limit)) return limit;
  logger?.warn(`${requestBodySizeLimitSetting}='${text}' is not a number of bytes; using ${defaultRequestBodySizeLimit}.`);
  return defaultRequestBodySizeLimit;
}

/** The `Values` of a local.settings.json-style file, or undefined when there is no such file. */
export function readSettingsFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { Values?: unknown };
  const values = parsed.Values;
  if (values === undefined) return {};
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new Error(`${path}: "Values" must be an object of settings`);
  }
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
}

/**
 * Like `func start`: every value of `<dir>/local.settings.json` becomes an environment variable,
 * unless the environment already sets it (the environment wins). Returns the names it applied.
 */
export function applyLocalSettings(dir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const values = readSettingsFile(resolve(dir, 'local.settings.json')) ?? {};
  const applied = Object.keys(values).filter((name) => env[name] === undefined);
  for (const name of applied) env[name] = values[name];
  return applied;
}

/** `extensions.http.routePrefix` of `<dir>/host.json`, as the real host reads it; undefined when unset. */
export function routePrefixFromHostJson(dir: string): string | undefined {
  const path = resolve(dir, 'host.json');
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { extensions?: { http?: { routePrefix?: unknown } } };
  const prefix = parsed.extensions?.http?.routePrefix;
  return typeof prefix === 'string' ? prefix : undefined;
}
