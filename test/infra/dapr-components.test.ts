import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Node } from 'web-tree-sitter';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import {
  arrayItems,
  type Assumptions,
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
  DAPR_APP_ID,
} from './bicep-tree.js';

interface Component {
  name: string | undefined;
  type: string | undefined;
  version: string | undefined;
  metadata: Map<string, { value?: string; secretRef?: string; node: Node }>;
  secretStoreComponent: string | undefined;
  scopes: Array<string | undefined>;
  resource: Resource;
}

interface ComponentYaml {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { type: string; version: string; metadata: Array<{ name: string; value?: unknown }> };
}

let files: BicepFile[];
let components: Component[];
let yamls: Map<string, ComponentYaml>;

const componentsDir = resolve(projectRoot, 'components');

beforeAll(async () => {
  files = await loadInfra();
  components = readComponents();
  yamls = new Map(
    readdirSync(componentsDir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .map((f) => parse(readFileSync(resolve(componentsDir, f), 'utf8')) as ComponentYaml)
      .filter((doc) => doc.kind === 'Component')
      .map((doc) => [doc.metadata.name, doc]),
  );
});

/** The components as deployed; `assume` overrides params (e.g. `{ redisAuthMode: 'entraId' }`). */
function readComponents(assume: Assumptions = {}): Component[] {
  return files
    .flatMap(resources)
    .filter((r) => r.type === 'Microsoft.App/managedEnvironments/daprComponents')
    .map((resource) => {
      const resolve = (node: Node | undefined) => resolveString(files, resource.file, node);
      const metadata = new Map<string, { value?: string; secretRef?: string; node: Node }>();
      for (const entry of arrayItems(files, resource.file, at(resource.body, 'properties.metadata'), assume)) {
        const name = resolve(at(entry, 'name'));
        const value = at(entry, 'value');
        const secretRef = at(entry, 'secretRef');
        metadata.set(name ?? entry.text, {
          value: value ? (resolve(value) ?? `<computed: ${value.text}>`) : undefined,
          secretRef: secretRef ? resolve(secretRef) : undefined,
          node: entry,
        });
      }
      return {
        name: resolve(at(resource.body, 'name')),
        type: resolve(at(resource.body, 'properties.componentType')),
        version: resolve(at(resource.body, 'properties.version')),
        metadata,
        secretStoreComponent: resolveComponentName(resource, at(resource.body, 'properties.secretStoreComponent')),
        scopes: items(at(resource.body, 'properties.scopes')).map(resolve),
        resource,
      };
    });
}

/** `secretStore.name` refers to the component declared as `secretStore`; a literal names it directly. */
function resolveComponentName(resource: Resource, node: Node | undefined): string | undefined {
  if (!node) return undefined;
  const direct = literal(node);
  if (direct !== undefined) return direct;
  const symbol = node.type === 'member_expression' ? node.childForFieldName('object')?.text : undefined;
  const target = resources(resource.file).find((r) => r.symbol === symbol);
  return target ? resolveString(files, resource.file, at(target.body, 'name')) : undefined;
}

/** The name of the Key Vault secret redis.bicep writes the access key to. */
function redisKeySecretName(): string | undefined {
  const secret = files
    .flatMap(resources)
    .find((r) => r.type === 'Microsoft.KeyVault/vaults/secrets' && r.file.name === 'infra/app/redis.bicep');
  return secret ? resolveString(files, secret.file, at(secret.body, 'name')) : undefined;
}

const stateStores = () => components.filter((c) => c.type?.startsWith('state.'));
const byName = (name: string) => {
  const found = components.find((c) => c.name === name);
  if (!found) throw new Error(`no Dapr component named ${name}: ${components.map((c) => c.name).join(', ')}`);
  return found;
};

describe('Dapr components in infra/', () => {
  it('names the state stores exactly as the app is configured by default', () => {
    const { stores } = loadConfig({});
    expect(
      stateStores()
        .map((c) => c.name)
        .sort(),
    ).toEqual([stores.hot, stores.durable].sort());
  });

  it('names the state stores exactly as components/*.yaml does for local runs', () => {
    const local = [...yamls.values()].filter((y) => y.spec.type.startsWith('state.')).map((y) => y.metadata.name);
    expect(
      stateStores()
        .map((c) => c.name)
        .sort(),
    ).toEqual(local.sort());
  });

  it('uses the same component type and version as the local YAML of the same name', () => {
    for (const component of stateStores()) {
      const local = yamls.get(component.name ?? '');
      expect({ name: component.name, type: component.type, version: component.version }).toEqual({
        name: local?.metadata.name,
        type: local?.spec.type,
        version: local?.spec.version,
      });
    }
  });

  it('backs the hot store with state.redis v1 and the durable store with state.postgresql v2', () => {
    const { stores } = loadConfig({});
    expect([byName(stores.hot).type, byName(stores.hot).version]).toEqual(['state.redis', 'v1']);
    expect([byName(stores.durable).type, byName(stores.durable).version]).toEqual(['state.postgresql', 'v2']);
  });

  it("scopes every component to the app's Dapr app id and nothing else", () => {
    expect(components.length).toBeGreaterThanOrEqual(3);
    for (const component of components) {
      expect({ component: component.name, scopes: component.scopes }).toEqual({ component: component.name, scopes: [DAPR_APP_ID] });
    }
  });

  it('signs in to Redis over TLS with the access key read from Key Vault by default (no Entra ID token to expire)', () => {
    const redis = byName(loadConfig({}).stores.hot);
    expect(redis.metadata.get('enableTLS')?.value).toBe('true');
    expect(redis.metadata.get('redisHost')?.value).toBeDefined();
    expect(redis.metadata.has('useEntraID')).toBe(false);
    const password = redis.metadata.get('redisPassword');
    expect(password?.value).toBeUndefined();
    expect(password?.secretRef).toBe(redisKeySecretName());
    const secretStore = components.find((c) => c.type === 'secretstores.azure.keyvault');
    expect(redis.secretStoreComponent).toBe(secretStore?.name);
  });

  it('switches back to Microsoft Entra ID with the app identity when redisAuthMode is entraId', () => {
    const redis = readComponents({ redisAuthMode: 'entraId' }).find((c) => c.name === loadConfig({}).stores.hot);
    expect(redis?.metadata.get('useEntraID')?.value).toBe('true');
    expect(redis?.metadata.get('azureClientId')?.value).toBeDefined();
    expect(redis?.metadata.has('redisPassword')).toBe(false);
    expect(redis?.metadata.get('enableTLS')?.value).toBe('true');
  });

  it('connects to PostgreSQL with Microsoft Entra ID and a password-less connection string', () => {
    const postgres = byName(loadConfig({}).stores.durable);
    expect(postgres.metadata.get('useAzureAD')?.value).toBe('true');
    expect(postgres.metadata.get('azureClientId')?.value).toBeDefined();
    const connection = postgres.metadata.get('connectionString')?.node;
    const text = connection ? (at(connection, 'value')?.text ?? '') : '';
    expect(text).toMatch(/sslmode=require/);
    expect(text).not.toMatch(/password/i);
  });

  it('encrypts both state stores with primaryEncryptionKey read from the Key Vault secret store', () => {
    const secretStores = components.filter((c) => c.type === 'secretstores.azure.keyvault');
    expect(secretStores.map((c) => c.name)).toHaveLength(1);
    const secretStore = secretStores[0];
    expect(secretStore?.metadata.get('vaultName')?.value).toBeDefined();
    expect(secretStore?.metadata.get('azureClientId')?.value).toBeDefined();
    for (const store of stateStores()) {
      const key = store.metadata.get('primaryEncryptionKey');
      expect({ store: store.name, value: key?.value, hasSecretRef: Boolean(key && at(key.node, 'secretRef')) }).toEqual({
        store: store.name,
        value: undefined,
        hasSecretRef: true,
      });
      expect(store.secretStoreComponent).toBe(secretStore?.name);
    }
  });

  it('keeps the same key prefix as the local components', () => {
    for (const store of stateStores()) {
      const local = yamls.get(store.name ?? '')?.spec.metadata.find((m) => m.name === 'keyPrefix')?.value;
      expect(store.metadata.get('keyPrefix')?.value ?? 'appid').toBe(local ?? 'appid');
    }
  });

  it('puts every metadata entry in { name, value } or { name, secretRef } form', () => {
    for (const component of components) {
      for (const [name, entry] of component.metadata) {
        const keys = properties(entry.node)
          .map((p) => p.key)
          .sort();
        expect({ component: component.name, name, keys }).toSatisfy(
          ({ keys: k }: { keys: string[] }) => k.join() === 'name,value' || k.join() === 'name,secretRef',
        );
      }
    }
  });
});

describe('components/*.yaml', () => {
  it('parse as Dapr Component documents with the expected keys', () => {
    expect(yamls.size).toBeGreaterThanOrEqual(2);
    for (const [name, doc] of yamls) {
      expect(doc.apiVersion, name).toBe('dapr.io/v1alpha1');
      expect(doc.kind, name).toBe('Component');
      expect(typeof doc.spec.type, name).toBe('string');
      expect(doc.spec.version, name).toMatch(/^v\d+$/);
      expect(Array.isArray(doc.spec.metadata), name).toBe(true);
    }
  });

  it('include one file per configured store', () => {
    const { stores } = loadConfig({});
    expect([...yamls.keys()]).toEqual(expect.arrayContaining([stores.hot, stores.durable]));
  });
});
