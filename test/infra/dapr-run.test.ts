import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { loadStateComponents } from '../../dev/sidecar/components.js';
import {
  arrayItems,
  at,
  type BicepFile,
  items,
  literal,
  loadInfra,
  projectRoot,
  properties,
  type Resource,
  resolveString,
  resources,
  vars,
  DAPR_APP_ID,
} from './bicep-tree.js';

/**
 * Dapr-native resiliency (components/resiliency.yaml for `dapr run`, resiliencyPolicies in Bicep)
 * agrees with the app's own: a sidecar timeout below DAPR_TIMEOUT_MS, and retries in one layer only
 * (the app's compare-and-set retries), so nothing multiplies. Plus the `dapr run -f .` file.
 */

interface ResiliencyYaml {
  apiVersion: string;
  kind: string;
  scopes?: string[];
  spec: {
    policies: Record<string, Record<string, unknown>>;
    targets: { components: Record<string, { outbound?: Record<string, string>; inbound?: unknown }> };
  };
}

const componentsDir = resolve(projectRoot, 'components');
const { stores, dapr } = loadConfig({});
let files: BicepFile[];
let resiliency: ResiliencyYaml;

beforeAll(async () => {
  files = await loadInfra();
  resiliency = parse(readFileSync(resolve(componentsDir, 'resiliency.yaml'), 'utf8')) as ResiliencyYaml;
});

/** Go durations as daprd reads them (`2s`, `1500ms`, `1m`), in milliseconds. */
function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

/** DAPR_TIMEOUT_MS as infra/app/api.bicep sets it on the app. */
function deployedDaprTimeoutMs(): number {
  const app = files.flatMap(resources).find((r) => r.type === 'Microsoft.App/containerApps' && !r.existing) as Resource;
  const env = items(at(items(at(app.body, 'properties.template.containers'))[0], 'env'));
  const entry = env.find((e) => literal(at(e, 'name')) === 'DAPR_TIMEOUT_MS');
  return Number(resolveString(files, app.file, at(entry, 'value')));
}

const componentResources = () => files.flatMap(resources).filter((r) => r.type === 'Microsoft.App/managedEnvironments/daprComponents');
const policies = () =>
  files.flatMap(resources).filter((r) => r.type === 'Microsoft.App/managedEnvironments/daprComponents/resiliencyPolicies');

describe('components/resiliency.yaml (dapr run)', () => {
  it('is a Dapr Resiliency document scoped to the app', () => {
    expect(resiliency.apiVersion).toBe('dapr.io/v1alpha1');
    expect(resiliency.kind).toBe('Resiliency');
    expect(resiliency.scopes).toEqual([DAPR_APP_ID]);
  });

  it('targets exactly the two state stores, outbound (sidecar → store)', () => {
    const targets = resiliency.spec.targets.components;
    expect(Object.keys(targets).sort()).toEqual([stores.hot, stores.durable].sort());
    for (const target of Object.values(targets)) {
      expect(target.outbound).toBeDefined();
      expect(target.inbound).toBeUndefined();
    }
  });

  it('cuts a state call off in the sidecar before the app gives up on it (below DAPR_TIMEOUT_MS)', () => {
    for (const [store, target] of Object.entries(resiliency.spec.targets.components)) {
      const name = target.outbound?.timeout ?? '';
      const timeout = resiliency.spec.policies.timeouts?.[name];
      expect(typeof timeout, `${store}: timeout policy ${name}`).toBe('string');
      const ms = durationMs(timeout as string);
      expect(ms).toBeLessThan(dapr.timeoutMs);
      expect(ms).toBeGreaterThanOrEqual(1000);
    }
  });

  it('retries nothing and opens no breaker in the sidecar: the app owns both', () => {
    expect(resiliency.spec.policies.retries).toBeUndefined();
    expect(resiliency.spec.policies.circuitBreakers).toBeUndefined();
    for (const target of Object.values(resiliency.spec.targets.components)) {
      expect(Object.keys(target.outbound ?? {})).toEqual(['timeout']);
    }
  });

  it('turns the Redis client retries off in the local component too', () => {
    const local = parse(readFileSync(resolve(componentsDir, 'statestore.yaml'), 'utf8')) as {
      spec: { metadata: Array<{ name: string; value: unknown }> };
    };
    expect(String(local.spec.metadata.find((m) => m.name === 'redisMaxRetries')?.value)).toBe('-1');
  });

  it('sits next to the components without disturbing the local runtime, which loads only the stores', async () => {
    const loaded = await loadStateComponents(componentsDir);
    expect(loaded.map((c) => c.name).sort()).toEqual([stores.hot, stores.durable].sort());
  });
});

describe('resiliencyPolicies in infra/ (Container Apps)', () => {
  it('gives each state store one policy, with the same timeout as resiliency.yaml, below the deployed DAPR_TIMEOUT_MS', () => {
    const local = durationMs(resiliency.spec.policies.timeouts?.stateCall as string);
    const byStore = new Map<string, number>();
    for (const policy of policies()) {
      const parent = at(policy.body, 'parent')?.text;
      const component = componentResources().find((c) => c.symbol === parent && c.file === policy.file) as Resource;
      const store = resolveString(files, component.file, at(component.body, 'name')) as string;
      const seconds = at(policy.body, 'properties.outboundPolicy.timeoutPolicy.responseTimeoutInSeconds');
      const value = seconds?.type === 'identifier' ? vars(policy.file).get(seconds.text) : seconds;
      expect(byStore.has(store), `second policy for ${store}`).toBe(false);
      byStore.set(store, Number(value?.text) * 1000);
    }
    expect([...byStore.keys()].sort()).toEqual([stores.hot, stores.durable].sort());
    for (const ms of byStore.values()) {
      expect(ms).toBe(local);
      expect(ms).toBeLessThan(deployedDaprTimeoutMs());
    }
  });

  it('sets only an outbound timeout: no retry, no breaker, nothing inbound', () => {
    for (const policy of policies()) {
      expect(properties(at(policy.body, 'properties') as NonNullable<ReturnType<typeof at>>).map((p) => p.key)).toEqual(['outboundPolicy']);
      expect(properties(at(policy.body, 'properties.outboundPolicy') as NonNullable<ReturnType<typeof at>>).map((p) => p.key)).toEqual([
        'timeoutPolicy',
      ]);
    }
  });

  it('turns the Redis client retries off on the deployed component', () => {
    const redis = componentResources().find((c) => resolveString(files, c.file, at(c.body, 'name')) === stores.hot) as Resource;
    for (const mode of ['accessKey', 'entraId']) {
      const entries = arrayItems(files, redis.file, at(redis.body, 'properties.metadata'), { redisAuthMode: mode });
      const retries = entries.find((e) => literal(at(e, 'name')) === 'redisMaxRetries');
      expect(literal(at(retries, 'value')), mode).toBe('-1');
    }
  });
});

describe('dapr.yaml (dapr run -f .)', () => {
  const run = () =>
    parse(readFileSync(resolve(projectRoot, 'dapr.yaml'), 'utf8')) as {
      version: number;
      common?: { resourcesPath?: string };
      apps: Array<Record<string, any>>;
    };

  it('starts one app under the app id the components are scoped to, with the components folder as resources', () => {
    const file = run();
    expect(file.version).toBe(1);
    expect(file.apps).toHaveLength(1);
    const app = file.apps[0] as Record<string, any>;
    expect(app.appID).toBe(DAPR_APP_ID);
    expect(resolve(projectRoot, app.appDirPath)).toBe(resolve(projectRoot));
    expect(resolve(projectRoot, file.common?.resourcesPath ?? app.resourcesPath)).toBe(componentsDir);
    expect(existsSync(resolve(componentsDir, 'resiliency.yaml'))).toBe(true);
  });

  it('runs the compiled app under Core Tools, talking to the sidecar port the app is configured for, with no app port', () => {
    const app = run().apps[0] as Record<string, any>;
    expect(app.command.join(' ')).toMatch(/npm run build && func start/);
    expect(app.daprHTTPPort).toBe(dapr.httpPort);
    expect(Number(app.env.DAPR_HTTP_PORT)).toBe(app.daprHTTPPort);
    expect(app.appPort).toBeUndefined();
    // No Container Apps authentication locally: the caller comes from x-user-id.
    expect(loadConfig(app.env).authMode).toBe('trusted-header');
  });
});
