import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadStateComponents } from '../../dev/sidecar/components.js';

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sidecar-components-'));
  dirs.push(dir);
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text)));
  return dir;
}

const component = (name: string, type: string, extra = ''): string => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: ${type}
  version: v1
  metadata:
    - name: keyPrefix
      value: appid${extra}
`;

describe('loadStateComponents', () => {
  it('reads the repository components', async () => {
    const components = await loadStateComponents(join(import.meta.dirname, '../../components'));
    expect(components.map(({ name, type, version }) => ({ name, type, version }))).toEqual([
      { name: 'statestore-durable', type: 'state.postgresql', version: 'v2' },
      { name: 'statestore', type: 'state.redis', version: 'v1' },
    ]);
    expect(components[1]?.metadata).toMatchObject({ redisHost: '127.0.0.1:6379', redisPassword: '', keyPrefix: 'appid' });
  });

  it('keeps only state components, reads multi-document files and stringifies values', async () => {
    const dir = await folderWith({
      'a.yaml': `${component('cache', 'state.redis', '\n    - name: ttlInSeconds\n      value: 60')}---\n${component('events', 'pubsub.redis')}`,
      'b.yml': 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: config\nspec: {}\n',
      'notes.txt': 'not yaml',
    });
    const components = await loadStateComponents(dir);
    expect(components).toEqual([
      { name: 'cache', type: 'state.redis', version: 'v1', metadata: { keyPrefix: 'appid', ttlInSeconds: '60' } },
    ]);
  });

  it('names the file when its YAML does not parse', async () => {
    const dir = await folderWith({ 'broken.yaml': 'kind: Component\nmetadata: [unclosed\n' });
    await expect(loadStateComponents(dir)).rejects.toThrow(/broken\.yaml/);
  });

  it('names the file when a component lacks its type', async () => {
    const dir = await folderWith({ 'typeless.yaml': 'kind: Component\nmetadata:\n  name: x\nspec:\n  version: v1\n' });
    await expect(loadStateComponents(dir)).rejects.toThrow(/typeless\.yaml.*spec\.type|typeless\.yaml[\s\S]*type/);
  });

  it('rejects two components with the same name', async () => {
    const dir = await folderWith({ 'a.yaml': component('same', 'state.redis'), 'b.yaml': component('same', 'state.redis') });
    await expect(loadStateComponents(dir)).rejects.toThrow(/duplicate.*same/);
  });
});
