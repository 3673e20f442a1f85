import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startHost } from '../../dev/host/host.js';
import { captureLogger } from './capture-logger.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('startHost', () => {
  it('refuses to start when two functions share a name', async () => {
    await expect(startHost({ functionFiles: [`${fixtures}duplicate.ts`], logger: captureLogger() })).rejects.toThrow(
      "Duplicate function name 'twin'",
    );
  });

  it('fails when a function file does not exist', async () => {
    await expect(startHost({ functionFiles: [`${fixtures}missing.ts`], logger: captureLogger() })).rejects.toThrow();
  });
});
