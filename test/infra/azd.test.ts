import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  at,
  type BicepFile,
  fileNamed,
  infraDir,
  literal,
  loadInfra,
  outputs,
  type Param,
  params,
  projectRoot,
  properties,
  resources,
  vars,
} from './bicep-tree.js';

interface ParametersFile {
  $schema: string;
  contentVersion: string;
  parameters: Record<string, { value: unknown }>;
}

let main: BicepFile;
let mainParams: Param[];
let parametersFile: ParametersFile;

beforeAll(async () => {
  main = fileNamed(await loadInfra(), 'infra/main.bicep');
  mainParams = params(main);
  parametersFile = JSON.parse(readFileSync(resolve(infraDir, 'main.parameters.json'), 'utf8')) as ParametersFile;
});

/** azd supplies a parameter it is told to generate (and keeps the value in the azd environment). */
const generatedByAzd = (param: Param) => {
  const metadata = param.decorators.find((d) => d.name === 'metadata')?.args[0];
  return literal(at(metadata, 'azd.type')) === 'generate';
};

describe('azure.yaml', () => {
  const azureYaml = () => parse(readFileSync(resolve(projectRoot, 'azure.yaml'), 'utf8')) as Record<string, any>;

  it('declares the api service as a TypeScript container app built remotely from the Dockerfile', () => {
    expect(azureYaml().services).toEqual({
      api: {
        project: '.',
        host: 'containerapp',
        language: 'ts',
        docker: { path: './Dockerfile', remoteBuild: true },
      },
    });
  });

  it('has a name and provisions infra/main.bicep', () => {
    const yaml = azureYaml();
    expect(yaml.name).toMatch(/^[a-z0-9-]+$/);
    expect(yaml.infra ?? {}).toMatchObject({ provider: 'bicep', path: 'infra', module: 'main' });
  });
});

describe('main.parameters.json', () => {
  it('is an ARM deployment parameters file', () => {
    expect(parametersFile.$schema).toMatch(/deploymentParameters\.json#$/);
    expect(parametersFile.contentVersion).toBe('1.0.0.0');
  });

  it('names only parameters main.bicep declares', () => {
    const declared = mainParams.map((p) => p.name);
    expect(Object.keys(parametersFile.parameters).filter((name) => !declared.includes(name))).toEqual([]);
  });

  it('supplies every required main.bicep parameter, unless azd generates it', () => {
    const required = mainParams.filter((p) => p.defaultValue === undefined && !generatedByAzd(p)).map((p) => p.name);
    expect(required).toEqual(expect.arrayContaining(['environmentName', 'location']));
    expect(required.filter((name) => !(name in parametersFile.parameters))).toEqual([]);
  });

  it('maps the azd environment variables', () => {
    const value = (name: string) => parametersFile.parameters[name]?.value;
    expect(value('environmentName')).toBe(`\${AZURE_ENV_NAME}`);
    expect(value('location')).toBe(`\${AZURE_LOCATION}`);
    expect(value('apiExists')).toBe(`\${SERVICE_API_RESOURCE_EXISTS=false}`);
    // `azd env set REDIS_AUTH_MODE entraId` switches Redis back to Entra ID (README "Deploy to Azure").
    expect(value('redisAuthMode')).toBe(`\${REDIS_AUTH_MODE=accessKey}`);
    expect(value('authClientId')).toBe(`\${AUTH_CLIENT_ID=}`);
  });

  it('passes no secret through the parameters file', () => {
    const secure = mainParams.filter((p) => p.decorators.some((d) => d.name === 'secure')).map((p) => p.name);
    expect(secure.length).toBeGreaterThan(0);
    expect(secure.filter((name) => name in parametersFile.parameters)).toEqual([]);
  });
});

describe('README "Deploy to Azure"', () => {
  const section = () => {
    const readme = readFileSync(resolve(projectRoot, 'README.md'), 'utf8');
    const start = readme.indexOf('## Deploy to Azure');
    const end = readme.indexOf('\n## ', start + 1);
    return readme.slice(start, end === -1 ? undefined : end);
  };

  it('documents every switch main.parameters.json reads from the azd environment', () => {
    const switches = Object.values(parametersFile.parameters)
      .map((p) => /^\$\{(\w+)=/.exec(String(p.value))?.[1])
      .filter((name): name is string => name !== undefined && !name.startsWith('SERVICE_'));
    expect(switches).toEqual(expect.arrayContaining(['AUTH_CLIENT_ID', 'REDIS_AUTH_MODE']));
    const text = section();
    expect(switches.filter((name) => !text.includes(`\`${name}\``))).toEqual([]);
  });

  it('names the Redis default, the bug it avoids and the way back', () => {
    const text = section();
    expect(text).toContain('dapr/components-contrib#3554');
    expect(text).toContain('azd env set REDIS_AUTH_MODE entraId');
  });
});

describe('main.bicep outputs for azd', () => {
  it('outputs the registry endpoint, location, tenant and the API URL', () => {
    const names = outputs(main).map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['AZURE_CONTAINER_REGISTRY_ENDPOINT', 'AZURE_LOCATION', 'AZURE_TENANT_ID', 'API_URL']));
  });

  it('builds the API URL as https with the /api route prefix from host.json', () => {
    const url = outputs(main).find((o) => o.name === 'API_URL');
    const host = JSON.parse(readFileSync(resolve(projectRoot, 'host.json'), 'utf8')) as {
      extensions?: { http?: { routePrefix?: string } };
    };
    expect(url?.value.type).toBe('string');
    expect(url?.value.text).toMatch(new RegExp(`/${host.extensions?.http?.routePrefix ?? 'api'}'$`));
  });

  it('tags the resource group with the azd environment name', () => {
    const tags = vars(main).get('tags');
    const envTag = tags ? properties(tags).find((p) => p.key === 'azd-env-name') : undefined;
    expect(envTag?.value.text).toBe('environmentName');
    const group = resources(main).find((r) => r.type === 'Microsoft.Resources/resourceGroups');
    expect(at(group?.body, 'tags')?.text).toBe('tags');
  });
});

describe('Dockerfile', () => {
  const lines = () =>
    readFileSync(resolve(projectRoot, 'Dockerfile'), 'utf8')
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));

  it('builds in two stages on the Functions Node 22 image', () => {
    const from = lines().filter((l) => /^FROM /i.test(l));
    expect(from).toHaveLength(2);
    for (const stage of from) expect(stage).toMatch(/^FROM mcr\.microsoft\.com\/azure-functions\/node:4-node22\b/);
  });

  it('compiles with npm ci + npm run build, then keeps production dependencies only', () => {
    const run = lines()
      .filter((l) => l.startsWith('RUN '))
      .join('\n');
    expect(run).toMatch(/npm ci\b/);
    expect(run).toMatch(/npm run build/);
    expect(run).toMatch(/npm (ci --omit=dev|prune --omit=dev)/);
  });

  it('copies dist, host.json, package.json and node_modules into wwwroot with the host settings', () => {
    const text = lines().join('\n');
    expect(text).toMatch(/AzureWebJobsScriptRoot=\/home\/site\/wwwroot/);
    expect(text).toMatch(/AzureFunctionsJobHost__Logging__Console__IsEnabled=true/);
    expect(text).toMatch(/WORKDIR \/home\/site\/wwwroot/);
    expect(text).toMatch(/COPY --from=build \S+\/dist \.\/dist/);
    expect(text).toMatch(/COPY --from=build \S+\/node_modules \.\/node_modules/);
    expect(text).toMatch(/COPY host\.json package\.json \.\//);
  });

  it('copies every directory tsconfig.build.json compiles into the build stage', () => {
    const build = JSON.parse(readFileSync(resolve(projectRoot, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const copied = lines()
      .filter((l) => /^COPY (?!--from)/.test(l))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(build.include.filter((dir) => !copied.includes(dir))).toEqual([]);
    const ignored = readFileSync(resolve(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(build.include.filter((dir) => ignored.includes(dir))).toEqual([]);
  });

  it('ships no code that imports dev/, which the image drops', () => {
    const text = lines().join('\n');
    expect(text).toMatch(/rm -rf dist\/dev/);
    const shipped = ['functions', 'shared', 'scripts'].flatMap((dir) =>
      readdirSync(resolve(projectRoot, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => resolve(projectRoot, dir, f)),
    );
    const offenders = shipped.filter((file) => /from '(\.\.\/)+dev\//.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('leaves the entrypoint of the base image alone', () => {
    expect(lines().filter((l) => /^(CMD|ENTRYPOINT)\b/i.test(l))).toEqual([]);
  });

  it('keeps node_modules, dist, tests and local settings out of the build context', () => {
    const ignored = readFileSync(resolve(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'test', 'local.settings.json', '.azure']));
  });
});
