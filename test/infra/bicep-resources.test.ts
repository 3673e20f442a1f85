import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BicepFile,
  descendants,
  fileNamed,
  infraDir,
  line,
  literal,
  loadInfra,
  parts,
  type Resource,
  resources,
} from './bicep-tree.js';

/**
 * Every resource type the templates may declare, with the API versions checked for it (see
 * docs/azure.md). Adding a resource or bumping a version means adding it here, deliberately.
 * Container apps pin 2026-01-01: 2025-07-01 is reported to ignore `kind: 'functionapp'`.
 */
const ALLOWED_API_VERSIONS: Record<string, string[]> = {
  'Microsoft.Resources/resourceGroups': ['2024-03-01'],
  'Microsoft.OperationalInsights/workspaces': ['2023-09-01'],
  'Microsoft.Insights/components': ['2020-02-02'],
  'Microsoft.Insights/diagnosticSettings': ['2021-05-01-preview'],
  'Microsoft.ContainerRegistry/registries': ['2023-07-01'],
  'Microsoft.ManagedIdentity/userAssignedIdentities': ['2023-01-31'],
  'Microsoft.Authorization/roleAssignments': ['2022-04-01'],
  'Microsoft.Storage/storageAccounts': ['2023-05-01'],
  'Microsoft.KeyVault/vaults': ['2023-07-01'],
  'Microsoft.KeyVault/vaults/secrets': ['2023-07-01'],
  'Microsoft.App/managedEnvironments': ['2025-07-01'],
  'Microsoft.App/managedEnvironments/daprComponents': ['2025-07-01'],
  // Preview only; the schema (outboundPolicy.timeoutPolicy.responseTimeoutInSeconds, httpRetryPolicy,
  // circuitBreakerPolicy) is the one documented for this version.
  'Microsoft.App/managedEnvironments/daprComponents/resiliencyPolicies': ['2025-02-02-preview'],
  'Microsoft.App/containerApps': ['2026-01-01', '2025-10-02-preview'],
  'Microsoft.App/containerApps/authConfigs': ['2025-07-01'],
  'Microsoft.Cache/redisEnterprise': ['2025-07-01'],
  'Microsoft.Cache/redisEnterprise/databases': ['2025-07-01'],
  'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments': ['2025-07-01'],
  'Microsoft.DBforPostgreSQL/flexibleServers': ['2025-08-01'],
  'Microsoft.DBforPostgreSQL/flexibleServers/administrators': ['2025-08-01'],
  'Microsoft.DBforPostgreSQL/flexibleServers/databases': ['2025-08-01'],
  'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules': ['2025-08-01'],
};

/** Retired or unsuitable services azure.md rules out. */
const FORBIDDEN_TYPES = [/^Microsoft\.Cache\/redis(\/|$)/, /^Microsoft\.Web\//, /^Microsoft\.DBforPostgreSQL\/servers/];

let files: BicepFile[];
let all: Resource[];

beforeAll(async () => {
  files = await loadInfra();
  all = files.flatMap(resources);
});

const describeResource = (r: Resource) => `${r.file.name}:${line(r.node)} ${r.symbol} '${r.type}@${r.apiVersion}'`;

describe('resource types and API versions', () => {
  it('finds the resources (the walk itself works)', () => {
    expect(all.length).toBeGreaterThan(15);
    expect(all.map((r) => r.type)).toContain('Microsoft.App/containerApps');
  });

  it('declares only allowlisted resource types at allowlisted API versions', () => {
    const offList = all.filter((r) => !ALLOWED_API_VERSIONS[r.type]?.includes(r.apiVersion)).map(describeResource);
    expect(offList, 'not on ALLOWED_API_VERSIONS in test/infra/bicep-resources.test.ts').toEqual([]);
  });

  it('uses none of the retired or ruled-out services', () => {
    const forbidden = all.filter((r) => FORBIDDEN_TYPES.some((pattern) => pattern.test(r.type))).map(describeResource);
    expect(forbidden).toEqual([]);
  });

  it('uses one API version per resource type across all files', () => {
    const versions = new Map<string, Set<string>>();
    for (const r of all) versions.set(r.type, (versions.get(r.type) ?? new Set()).add(r.apiVersion));
    const mixed = [...versions].filter(([, v]) => v.size > 1).map(([type, v]) => `${type}: ${[...v].join(', ')}`);
    expect(mixed).toEqual([]);
  });

  it('declares every resource with a literal type string', () => {
    const unnamed = all.filter((r) => !r.type || !r.apiVersion).map(describeResource);
    expect(unnamed).toEqual([]);
  });
});

describe('azd conventions in main.bicep', () => {
  it('targets the subscription', () => {
    const main = fileNamed(files, 'infra/main.bicep');
    const scope = parts(main.root).find((node) => node.type === 'target_scope_assignment');
    expect(literal(scope ? parts(scope)[0] : undefined)).toBe('subscription');
  });

  it('reads only abbreviations that infra/abbreviations.json defines', () => {
    const abbreviations = JSON.parse(readFileSync(resolve(infraDir, 'abbreviations.json'), 'utf8')) as Record<string, string>;
    const main = fileNamed(files, 'infra/main.bicep');
    const used = descendants(main.root, 'member_expression')
      .filter((node) => node.childForFieldName('object')?.text === 'abbrs')
      .map((node) => node.childForFieldName('property')?.text ?? '');
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((key) => !(key in abbreviations))).toEqual([]);
  });
});
