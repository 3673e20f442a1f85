import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/stack.js';

/** Every `…docs/<name>.md` that code, tests, infra or docs cite names a file in this repository. */
describe('documentation references', () => {
  it('point to files that exist', async () => {
    const files = await glob(
      [
        'functions/**',
        'shared/**',
        'dev/**',
        'scripts/**',
        'test/**',
        'bench/**',
        'infra/**',
        'components/**',
        'docs/**',
        '*.md',
        'Dockerfile',
        '.ci/*',
      ],
      {
        cwd: projectRoot,
        ignore: ['**/node_modules/**', 'dist/**', '**/*.wasm'],
        dot: true,
      },
    );
    const cited = new Set<string>();
    for (const file of files) {
      const text = readFileSync(resolve(projectRoot, file), 'utf8');
      for (const [reference] of text.matchAll(/[\w./-]*\bdocs\/[\w.-]+\.md\b/g)) {
        if (!reference.startsWith('http')) cited.add(`${file}: ${reference}`);
      }
    }
    expect(cited.size).toBeGreaterThan(3);
    const missing = [...cited].filter((entry) => !existsSync(resolve(projectRoot, entry.split(': ')[1] ?? '')));
    expect(missing).toEqual([]);
  });
});
