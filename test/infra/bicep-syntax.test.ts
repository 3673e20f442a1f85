import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BicepFile,
  fileNamed,
  infraDir,
  listBicepFiles,
  loadInfra,
  modules,
  parseBicep,
  projectRoot,
  syntaxProblems,
} from './bicep-tree.js';

let files: BicepFile[];

beforeAll(async () => {
  files = await loadInfra();
});

describe('Bicep syntax', () => {
  it('finds main.bicep and one module per concern under infra/app', () => {
    const names = listBicepFiles().map((path) => path.slice(infraDir.length + 1));
    expect(names).toContain('main.bicep');
    for (const concern of [
      'monitoring',
      'registry',
      'identity',
      'storage',
      'container-apps-environment',
      'redis',
      'postgres',
      'key-vault',
      'dapr-components',
      'api',
    ]) {
      expect(names).toContain(`app/${concern}.bicep`);
    }
  });

  it('parses every .bicep file without an ERROR or MISSING node', () => {
    const problems = files.flatMap(syntaxProblems);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('reports a broken file with its name and line', async () => {
    const broken = await parseBicep(
      "param name string\n\nresource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: name\n  location: 'x'\n  kind: \n",
      `${projectRoot}infra/broken.bicep`,
    );
    const problems = syntaxProblems(broken);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(/^infra\/broken\.bicep:\d+:\d+: /m);
  });

  it('reports a stray token inside an otherwise valid file', async () => {
    const source = readFileSync(fileNamed(files, 'infra/app/registry.bicep').path, 'utf8');
    const broken = await parseBicep(source.replace("sku: { name: 'Basic' }", "sku: { name: 'Basic' } }"), 'registry.bicep');
    expect(syntaxProblems(broken)).not.toEqual([]);
  });

  it('points every module reference at a .bicep file that exists', () => {
    const known = new Set(files.map((file) => file.path));
    const missing = files.flatMap((file) =>
      modules(file)
        .filter((call) => !known.has(call.path))
        .map((call) => `${file.name}: module ${call.symbol} -> ${call.path}`),
    );
    expect(missing).toEqual([]);
  });
});
