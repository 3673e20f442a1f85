import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, settingsSchema } from '../../shared/config.js';
import { MAX_BODY_BYTES } from '../../shared/http/request.js';
import {
  at,
  type BicepFile,
  descendants,
  fileNamed,
  items,
  literal,
  loadInfra,
  modules,
  outputs,
  params,
  projectRoot,
  properties,
  type Resource,
  resolveString,
  resources,
  vars,
  DAPR_APP_ID,
} from './bicep-tree.js';

/**
 * Settings the Functions host (not the app) reads. Anything else set on the app or in
 * local.settings.example.json must be a name in settingsSchema: one list of setting names.
 */
const HOST_SETTINGS = new Set([
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT',
  'AzureWebJobsStorage',
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsSecretStorageType',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
]);

const schemaNames = Object.keys(settingsSchema.shape).sort();

let files: BicepFile[];
let app: Resource;
let env: Map<string, string | undefined>;

beforeAll(async () => {
  files = await loadInfra();
  const apps = files.flatMap(resources).filter((r) => r.type === 'Microsoft.App/containerApps' && !r.existing);
  expect(apps).toHaveLength(1);
  app = apps[0] as Resource;
  const containers = items(at(app.body, 'properties.template.containers'));
  expect(containers).toHaveLength(1);
  env = new Map(
    items(at(containers[0], 'env')).map((entry) => {
      const value = at(entry, 'value');
      return [resolveString(files, app.file, at(entry, 'name')) ?? entry.text, value ? resolveString(files, app.file, value) : undefined];
    }),
  );
});

describe('the function app', () => {
  it("is a container app of kind 'functionapp'", () => {
    expect(literal(at(app.body, 'kind'))).toBe('functionapp');
  });

  it('runs with Dapr enabled under the app id the components are scoped to, with no app port', () => {
    const dapr = at(app.body, 'properties.configuration.dapr');
    expect(at(dapr, 'enabled')?.text).toBe('true');
    expect(resolveString(files, app.file, at(dapr, 'appId'))).toBe(DAPR_APP_ID);
    expect(at(dapr, 'appPort')).toBeUndefined();
  });

  it('is tagged as the azd service "api"', () => {
    const tags = at(app.body, 'tags');
    expect(tags).toBeDefined();
    const serviceTags = descendants(tags ?? app.body, 'object')
      .flatMap(properties)
      .filter((p) => p.key === 'azd-service-name')
      .map((p) => literal(p.value));
    expect(serviceTags).toEqual(['api']);
  });

  it('listens on port 80 and pulls from the registry with its managed identity', () => {
    expect(at(app.body, 'properties.configuration.ingress.targetPort')?.text).toBe('80');
    const registries = items(at(app.body, 'properties.configuration.registries'));
    expect(registries).toHaveLength(1);
    expect(at(registries[0], 'identity')).toBeDefined();
    expect(at(registries[0], 'passwordSecretRef')).toBeUndefined();
    expect(at(app.body, 'identity.type')?.text).toBe("'UserAssigned'");
  });

  it('scales on concurrent HTTP requests between configured bounds', () => {
    const scale = at(app.body, 'properties.template.scale');
    expect(at(scale, 'minReplicas')).toBeDefined();
    expect(at(scale, 'maxReplicas')).toBeDefined();
    const rules = items(at(scale, 'rules'));
    expect(rules.map((rule) => properties(rule).map((p) => p.key))).toContainEqual(expect.arrayContaining(['name', 'http']));
    expect(at(rules[0], 'http.metadata.concurrentRequests')).toBeDefined();
  });

  it('trusts platform authentication: AUTH_MODE=platform', () => {
    expect(env.get('AUTH_MODE')).toBe('platform');
  });

  it('vouches for platform authentication (AUTH_CLIENT_ID) with the same value that turns authConfigs on', () => {
    const container = items(at(app.body, 'properties.template.containers'))[0];
    const entry = items(at(container, 'env')).find((e) => literal(at(e, 'name')) === 'AUTH_CLIENT_ID');
    const value = at(entry, 'value');
    expect(value?.type).toBe('identifier');
    const authEnabled = vars(app.file).get('authEnabled');
    expect(authEnabled?.text).toBe(`!empty(${value?.text})`);
    // By default (azd without AUTH_CLIENT_ID) it is empty, so the app refuses every caller.
    expect(env.get('AUTH_CLIENT_ID')).toBe('');
    expect(loadConfig({ AUTH_CLIENT_ID: env.get('AUTH_CLIENT_ID') }).authClientId).toBeUndefined();
  });

  it('sets every setting name in settingsSchema', () => {
    expect(schemaNames.filter((name) => !env.has(name))).toEqual([]);
  });

  it('sets no setting the app or the Functions host does not read', () => {
    expect([...env.keys()].filter((name) => !schemaNames.includes(name) && !HOST_SETTINGS.has(name))).toEqual([]);
  });

  it('gives every app setting a value the config schema accepts', () => {
    // A setting the host reads too comes from a resource (App Insights' connection string).
    const appOnly = schemaNames.filter((name) => !HOST_SETTINGS.has(name));
    const values = Object.fromEntries(appOnly.map((name) => [name, env.get(name)]));
    expect(Object.entries(values).filter(([, value]) => value === undefined)).toEqual([]);
    // loadConfig reads an empty string as unset (AUTH_CLIENT_ID is empty without authentication).
    const parsed = settingsSchema.safeParse(
      Object.fromEntries(Object.entries(values).map(([name, value]) => [name, value === '' ? undefined : value])),
    );
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
  });

  it('points the store name settings at the Dapr components infra/ creates', () => {
    const componentNames = files
      .flatMap(resources)
      .filter((r) => r.type === 'Microsoft.App/managedEnvironments/daprComponents')
      .map((r) => resolveString(files, r.file, at(r.body, 'name')));
    expect(componentNames).toContain(env.get('STATE_STORE_NAME'));
    expect(componentNames).toContain(env.get('DURABLE_STATE_STORE_NAME'));
    expect(env.get('STATE_STORE_NAME')).not.toBe(env.get('DURABLE_STATE_STORE_NAME'));
  });

  it("caps request bodies in the Functions host (bytes) a little over the API's own 256 KiB limit", () => {
    const limit = env.get('FUNCTIONS_REQUEST_BODY_SIZE_LIMIT') ?? '';
    // The host reads it with long.TryParse: anything but a whole number is silently ignored (100 MB).
    expect(limit).toMatch(/^\d+$/);
    expect(Number(limit)).toBeGreaterThan(MAX_BODY_BYTES);
    expect(Number(limit)).toBeLessThanOrEqual(MAX_BODY_BYTES + 16 * 1024);
  });

  it('gives the local host the same request body limit as the Azure host', () => {
    const example = JSON.parse(readFileSync(resolve(projectRoot, 'local.settings.example.json'), 'utf8'));
    expect(example.Values.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT).toBe(env.get('FUNCTIONS_REQUEST_BODY_SIZE_LIMIT'));
  });

  it("runs a Functions image until azd deploys the real one: the Dockerfile's base image", () => {
    const imageFile = fileNamed(files, 'infra/app/api-image.bicep');
    const output = outputs(imageFile).find((o) => o.name === 'image');
    const placeholder =
      output?.value.type === 'ternary_expression' ? literal(output.value.childForFieldName('alternative') ?? undefined) : undefined;
    const base = /^FROM (\S+)/m.exec(readFileSync(resolve(projectRoot, 'Dockerfile'), 'utf8'))?.[1];
    expect(placeholder).toBe(base);
    expect(placeholder).toMatch(/^mcr\.microsoft\.com\/azure-functions\//);
  });

  it('reaches the Functions host storage with its identity, not a connection string', () => {
    expect(env.get('AzureWebJobsStorage__credential')).toBe('managedidentity');
    expect(env.has('AzureWebJobsStorage__accountName')).toBe(true);
    expect(env.has('AzureWebJobsStorage__clientId')).toBe(true);
    expect(env.has('AzureWebJobsStorage')).toBe(false);
  });
});

describe('ingress and authentication', () => {
  it('takes an optional authClientId that defaults to empty in main.bicep', () => {
    const main = fileNamed(files, 'infra/main.bicep');
    const param = params(main).find((p) => p.name === 'authClientId');
    expect(param?.type).toBe('string');
    expect(literal(param?.defaultValue)).toBe('');
  });

  it('opens external ingress only when authentication is configured', () => {
    const external = at(app.body, 'properties.configuration.ingress.external');
    expect(external?.type).toBe('identifier');
    const condition = files.flatMap(resources).find((r) => r.type === 'Microsoft.App/containerApps/authConfigs')?.condition;
    expect(condition?.text).toBe(`(${external?.text})`);
  });

  it('configures Microsoft Entra ID authentication that rejects anonymous callers', () => {
    const auth = files.flatMap(resources).find((r) => r.type === 'Microsoft.App/containerApps/authConfigs');
    expect(auth).toBeDefined();
    expect(literal(at(auth?.body, 'name'))).toBe('current');
    expect(at(auth?.body, 'properties.platform.enabled')?.text).toBe('true');
    expect(literal(at(auth?.body, 'properties.globalValidation.unauthenticatedClientAction'))).toBe('Return401');
    expect(at(auth?.body, 'properties.identityProviders.azureActiveDirectory.enabled')?.text).toBe('true');
    expect(at(auth?.body, 'properties.identityProviders.azureActiveDirectory.registration.clientId')).toBeDefined();
  });

  it('lets exactly the anonymous routes (health, API reference, OpenAPI document) through without sign-in', () => {
    const auth = files.flatMap(resources).find((r) => r.type === 'Microsoft.App/containerApps/authConfigs');
    const excluded = items(at(auth?.body, 'properties.globalValidation.excludedPaths')).map(literal);
    expect(excluded.sort()).toEqual(['/api/docs', '/api/docs/scalar.js', '/api/health', '/api/openapi.json']);
  });
});

describe('telemetry', () => {
  it('sends the Dapr sidecar telemetry to the same Application Insights as the Functions host', () => {
    const environment = files.flatMap(resources).find((r) => r.type === 'Microsoft.App/managedEnvironments' && !r.existing) as Resource;
    const dapr = at(environment.body, 'properties.daprAIConnectionString');
    expect(dapr?.type).toBe('identifier');
    const main = fileNamed(files, 'infra/main.bicep');
    const passed = (param: string, moduleFile: string) =>
      modules(main)
        .find((m) => m.path.endsWith(moduleFile))
        ?.body.text.match(new RegExp(`${param}: ([\\w.]+)`))?.[1];
    expect(passed(dapr?.text ?? '', 'container-apps-environment.bicep')).toBe('monitoring.outputs.applicationInsightsConnectionString');
    expect(passed('applicationInsightsConnectionString', 'api.bicep')).toBe('monitoring.outputs.applicationInsightsConnectionString');
  });
});

describe('one list of setting names', () => {
  it('local.settings.example.json sets every settingsSchema name and nothing the app does not read', () => {
    const example = JSON.parse(readFileSync(resolve(projectRoot, 'local.settings.example.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    const names = Object.keys(example.Values);
    expect(schemaNames.filter((name) => !names.includes(name))).toEqual([]);
    expect(names.filter((name) => !schemaNames.includes(name) && !HOST_SETTINGS.has(name))).toEqual([]);
  });
});
