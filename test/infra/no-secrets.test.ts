import { beforeAll, describe, expect, it } from 'vitest';
import type { Node } from 'web-tree-sitter';
import {
  at,
  type BicepFile,
  calls,
  descendants,
  evaluate,
  items,
  line,
  literal,
  loadInfra,
  modules,
  outputs,
  type Param,
  params,
  parts,
  properties,
  type Resource,
  resolveString,
  resources,
} from './bicep-tree.js';

/** A parameter with one of these endings carries a secret and must be @secure(). */
const SECRET_PARAM = /(password|secret|key|seed|token)$/i;
/** Connection-string fragments that only appear with a credential in them. */
const CREDENTIAL_IN_STRING = /(password|pwd|accountkey|sharedaccesskey|accesskey)\s*=/i;

let files: BicepFile[];
let all: Resource[];

beforeAll(async () => {
  files = await loadInfra();
  all = files.flatMap(resources);
});

const isSecure = (param: Param) => param.decorators.some((d) => d.name === 'secure');
const where = (file: BicepFile, node: { startPosition: { row: number } }) => `${file.name}:${node.startPosition.row + 1}`;
const ofType = (type: string) => all.filter((r) => r.type === type && !r.existing);

describe('no secrets in templates', () => {
  it('calls list*() only to move the Redis access key straight into a Key Vault secret value', () => {
    const listCalls = files.flatMap((file) =>
      calls(file)
        .filter((call) => /^list[A-Z]/.test(call.name))
        .map((call) => ({ file, call })),
    );
    expect(listCalls.map(({ file, call }) => `${where(file, call.node)} ${call.node.text}`)).toEqual([
      `infra/app/redis.bicep:${line(listCalls[0]?.call.node as Node)} database.listKeys()`,
    ]);
    const { file, call } = listCalls[0] as { file: BicepFile; call: { node: Node } };
    const secret = resources(file).find((r) => r.type === 'Microsoft.KeyVault/vaults/secrets') as Resource;
    const value = at(secret.body, 'properties.value') as Node;
    // The call is the key's only consumer: `<mode> ? database.listKeys().primaryKey : ''`, nothing else.
    expect(value.type).toBe('ternary_expression');
    expect(value.childForFieldName('consequence')?.text).toBe('database.listKeys().primaryKey');
    expect(literal(value.childForFieldName('alternative') ?? undefined)).toBe('');
    expect(value.childForFieldName('consequence')?.equals(call.node.parent as Node)).toBe(true);
    // ARM evaluates list*() even for a skipped resource: the value carries the resource's condition.
    expect(value.childForFieldName('condition')?.text).toBe(parts(secret.condition as Node)[0]?.text ?? secret.condition?.text);
  });

  it('lets the Redis access key reach no output, parameter, module argument, app setting or metadata value', () => {
    const leaks = files.flatMap((file) => {
      const secrets = resources(file)
        .filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets')
        .map((r) => r.symbol);
      // A list*() call, or a read of a secret resource's properties (where the value sits).
      const carriesKey = (node: Node) =>
        descendants(node, 'call_expression').some((c) => /\.list[A-Z]\w*$|^list[A-Z]/.test(c.childForFieldName('function')?.text ?? '')) ||
        descendants(node, 'member_expression').some((m) => secrets.some((symbol) => m.text.startsWith(`${symbol}.properties`)));
      const fromOutputs = outputs(file)
        .filter((o) => carriesKey(o.value))
        .map((o) => `${where(file, o.value)} output ${o.name}`);
      const fromModules = modules(file).flatMap((m) =>
        properties(at(m.body, 'params') as Node)
          .filter((arg) => carriesKey(arg.value))
          .map((arg) => `${where(file, arg.node)} ${m.symbol}.${arg.key}`),
      );
      // App settings ({ name, value }) and Dapr metadata entries.
      const fromPairs = descendants(file.root, 'object')
        .filter((o) => at(o, 'name') !== undefined && at(o, 'value') !== undefined && carriesKey(at(o, 'value') as Node))
        .map((o) => `${where(file, o)} ${o.text}`);
      return [...fromOutputs, ...fromModules, ...fromPairs];
    });
    expect(leaks).toEqual([]);
    // azd hands main.bicep nothing about Redis but the switch.
    const main = files.find((f) => f.name === 'infra/main.bicep') as BicepFile;
    expect(
      params(main)
        .filter((p) => /redis/i.test(p.name))
        .map((p) => p.name),
    ).toEqual(['redisAuthMode']);
  });

  it('sets no property named like a password except to switch password authentication off', () => {
    const offenders = files.flatMap((file) =>
      descendants(file.root, 'object')
        .flatMap(properties)
        .filter((p) => /password/i.test(p.key) && literal(p.value) !== 'Disabled')
        .map((p) => `${where(file, p.node)} ${p.node.text}`),
    );
    expect(offenders).toEqual([]);
  });

  it('writes no credential into any string', () => {
    const offenders = files.flatMap((file) =>
      descendants(file.root, 'string_content')
        .filter((node) => CREDENTIAL_IN_STRING.test(node.text))
        .map((node) => `${where(file, node)} ${node.text}`),
    );
    expect(offenders).toEqual([]);
  });

  it('passes secret Dapr metadata by secretRef, never by value', () => {
    const offenders = ofType('Microsoft.App/managedEnvironments/daprComponents').flatMap((component) =>
      items(at(component.body, 'properties.metadata'))
        .filter((entry) => /password|secret|encryptionkey|accesskey|token/i.test(literal(at(entry, 'name')) ?? ''))
        .filter((entry) => at(entry, 'value') !== undefined || at(entry, 'secretRef') === undefined)
        .map((entry) => `${where(component.file, entry)} ${entry.text}`),
    );
    expect(offenders).toEqual([]);
  });

  it('marks every secret-looking parameter @secure() and gives none a literal default', () => {
    const offenders = files.flatMap((file) =>
      params(file)
        .filter((p) => SECRET_PARAM.test(p.name) || isSecure(p))
        .filter((p) => !isSecure(p) || (p.defaultValue !== undefined && p.defaultValue.type === 'string'))
        .map((p) => `${where(file, p.node)} param ${p.name}`),
    );
    expect(offenders).toEqual([]);
  });

  it('hands secure values only to secure module parameters', () => {
    const offenders = files.flatMap((file) => {
      const secure = new Set(
        params(file)
          .filter(isSecure)
          .map((p) => p.name),
      );
      return modules(file).flatMap((call) => {
        const target = files.find((f) => f.path === call.path);
        const args = at(call.body, 'params');
        return (args ? properties(args) : [])
          .filter((arg) => descendants(arg.value, 'identifier').some((id) => secure.has(id.text)))
          .filter((arg) => !params(target as BicepFile).some((p) => p.name === arg.key && isSecure(p)))
          .map((arg) => `${where(file, arg.node)} ${call.symbol}.${arg.key}`);
      });
    });
    expect(offenders).toEqual([]);
  });

  it('never outputs a secure value', () => {
    const offenders = files.flatMap((file) => {
      const secure = new Set(
        params(file)
          .filter(isSecure)
          .map((p) => p.name),
      );
      return outputs(file)
        .filter((o) => descendants(o.value, 'identifier').some((id) => secure.has(id.text)))
        .map((o) => `${where(file, o.value)} output ${o.name}`);
    });
    expect(offenders).toEqual([]);
  });

  it('derives the Dapr encryption key secret from a @secure() parameter, not a literal', () => {
    const secrets = ofType('Microsoft.KeyVault/vaults/secrets').filter((r) => r.file.name === 'infra/app/key-vault.bicep');
    expect(secrets).toHaveLength(1);
    const secret = secrets[0] as Resource;
    const value = at(secret.body, 'properties.value');
    expect(value).toBeDefined();
    expect(literal(value)).toBeUndefined();
    const secure = new Set(
      params(secret.file)
        .filter(isSecure)
        .map((p) => p.name),
    );
    expect(descendants(value as NonNullable<typeof value>, 'identifier').some((id) => secure.has(id.text))).toBe(true);
    expect(calls(secret.file).map((c) => c.name)).not.toContain('newGuid');
  });

  it('derives a hex key Dapr accepts: nothing but one or two dash-stripped GUIDs (128 or 256 bits)', () => {
    const secret = ofType('Microsoft.KeyVault/vaults/secrets').find((r) => r.file.name === 'infra/app/key-vault.bicep') as Resource;
    const value = at(secret.body, 'properties.value');
    const pieces = value?.type === 'string' ? parts(value) : [];
    expect(pieces.every((piece) => piece.type === 'interpolation')).toBe(true);
    expect([1, 2]).toContain(pieces.length);
    for (const piece of pieces) expect(parts(piece)[0]?.text).toMatch(/^replace\(guid\(.+\), '-', ''\)$/);
  });

  it('generates the encryption key seed once through azd instead of on every deployment', () => {
    const main = files.find((f) => f.name === 'infra/main.bicep') as BicepFile;
    const seed = params(main).find((p) => isSecure(p) && /seed/i.test(p.name));
    expect(seed?.defaultValue).toBeUndefined();
    const metadata = seed?.decorators.find((d) => d.name === 'metadata')?.args[0];
    expect(literal(at(metadata, 'azd.type'))).toBe('generate');
  });
});

describe('data stores accept identities only', () => {
  it('turns off shared keys on the storage account', () => {
    for (const storage of ofType('Microsoft.Storage/storageAccounts')) {
      expect(at(storage.body, 'properties.allowSharedKeyAccess')?.text, where(storage.file, storage.node)).toBe('false');
    }
  });

  it('enables Redis access keys only in accessKey mode (the default) and keeps TLS on', () => {
    const databases = ofType('Microsoft.Cache/redisEnterprise/databases');
    expect(databases).toHaveLength(1);
    const db = databases[0] as Resource;
    const keys = at(db.body, 'properties.accessKeysAuthentication');
    expect(evaluate(files, db.file, keys)).toBe('Enabled');
    expect(evaluate(files, db.file, keys, { authMode: 'entraId' })).toBe('Disabled');
    expect(evaluate(files, db.file, keys, { authMode: 'accessKey' })).toBe('Enabled');
    expect(literal(at(db.body, 'properties.clientProtocol'))).toBe('Encrypted');
    const main = files.find((f) => f.name === 'infra/main.bicep') as BicepFile;
    const mode = params(main).find((p) => p.name === 'redisAuthMode');
    expect(literal(mode?.defaultValue)).toBe('accessKey');
    expect(items(mode?.decorators.find((d) => d.name === 'allowed')?.args[0]).map((n) => literal(n))).toEqual(['accessKey', 'entraId']);
  });

  it('writes the Redis key secret only in accessKey mode and grants the Entra ID access policy only in entraId mode', () => {
    const secret = ofType('Microsoft.KeyVault/vaults/secrets').find((r) => r.file.name === 'infra/app/redis.bicep') as Resource;
    const policy = ofType('Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments')[0] as Resource;
    expect([evaluate(files, secret.file, secret.condition), evaluate(files, policy.file, policy.condition)]).toEqual([true, false]);
    const entra = { authMode: 'entraId' };
    expect([evaluate(files, secret.file, secret.condition, entra), evaluate(files, policy.file, policy.condition, entra)]).toEqual([
      false,
      true,
    ]);
  });

  it('turns off password authentication on PostgreSQL and sets no administrator login', () => {
    const servers = ofType('Microsoft.DBforPostgreSQL/flexibleServers');
    expect(servers).toHaveLength(1);
    for (const server of servers) {
      expect(literal(at(server.body, 'properties.authConfig.passwordAuth'))).toBe('Disabled');
      expect(literal(at(server.body, 'properties.authConfig.activeDirectoryAuth'))).toBe('Enabled');
      expect(at(server.body, 'properties.administratorLogin')).toBeUndefined();
    }
    expect(ofType('Microsoft.DBforPostgreSQL/flexibleServers/administrators')).toHaveLength(1);
  });

  it('turns off the registry admin user and uses Azure RBAC on Key Vault', () => {
    for (const registry of ofType('Microsoft.ContainerRegistry/registries')) {
      expect(at(registry.body, 'properties.adminUserEnabled')?.text).toBe('false');
    }
    for (const vault of ofType('Microsoft.KeyVault/vaults')) {
      expect(at(vault.body, 'properties.enableRbacAuthorization')?.text).toBe('true');
      expect(at(vault.body, 'properties.accessPolicies')).toBeUndefined();
    }
  });

  it('grants the app identity a Redis access policy and the PostgreSQL Entra administrator role', () => {
    const policy = ofType('Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments')[0];
    expect(literal(at(policy?.body, 'properties.accessPolicyName'))).toBe('default');
    // The assignment name must be alphanumeric: the principal id with its dashes stripped.
    expect(at(policy?.body, 'name')?.text).toMatch(/^replace\(\w+, '-', ''\)$/);
    const admin = ofType('Microsoft.DBforPostgreSQL/flexibleServers/administrators')[0];
    expect(literal(at(admin?.body, 'properties.principalType'))).toBe('ServicePrincipal');
  });

  it('grants roles to the app identity only: the deploying user gets no data-plane access', () => {
    // azd deploys through ARM (control plane): the Key Vault secrets and listKeys() are ARM
    // operations, the image is built in the registry. Nobody's user account needs to read data.
    const grantees = ofType('Microsoft.Authorization/roleAssignments').map((a) => [
      at(a.body, 'properties.principalId')?.text,
      literal(at(a.body, 'properties.principalType')),
    ]);
    expect(grantees.length).toBeGreaterThan(0);
    for (const grantee of grantees) expect(grantee).toEqual(['identity.properties.principalId', 'ServicePrincipal']);
    const main = files.find((f) => f.name === 'infra/main.bicep') as BicepFile;
    expect(params(main).filter((p) => /principal/i.test(p.name))).toEqual([]);
    expect(calls(main).filter((c) => c.name === 'deployer')).toEqual([]);
  });

  it('assigns AcrPull, Storage Blob Data Owner and Key Vault Secrets User to the identity', () => {
    const roleIds = ofType('Microsoft.Authorization/roleAssignments').map((assignment) => {
      const definition = at(assignment.body, 'properties.roleDefinitionId');
      const args = definition?.type === 'call_expression' ? definition.childForFieldName('arguments') : null;
      return resolveString(files, assignment.file, args ? parts(args)[1] : undefined);
    });
    expect(roleIds.sort()).toEqual(
      [
        '7f951dda-4ed3-4680-a7ca-43fe172d538d', // AcrPull
        'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', // Storage Blob Data Owner
        '4633458b-17de-408a-b874-0445c86b69e6', // Key Vault Secrets User
      ].sort(),
    );
  });
});
