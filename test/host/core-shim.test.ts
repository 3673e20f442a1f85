import { createRequire } from 'node:module';
import { app } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { coreModuleName, getProgrammingModel, getRegistrations, installCoreShim } from '../../dev/host/core-shim.js';

const require = createRequire(import.meta.url);

interface CoreApi {
  registerFunction(metadata: { name: string; bindings: Record<string, unknown> }, handler: () => unknown): { dispose(): void };
}

describe('core shim', () => {
  it('leaves @azure/functions-core unresolvable until installed', () => {
    expect(() => require(coreModuleName)).toThrow(/Cannot find module/);
  });

  it('answers require of @azure/functions-core once installed, idempotently', () => {
    installCoreShim();
    installCoreShim();
    const first: unknown = require(coreModuleName);
    expect(first).toMatchObject({ registerFunction: expect.any(Function), setProgrammingModel: expect.any(Function) });
    expect(require(coreModuleName)).toBe(first);
  });

  it('records the programming model and each app.http registration with its metadata and handler', () => {
    const handler = async () => ({ body: 'ok' });
    app.http('shimmed', { route: 'shim/{id:int}', methods: ['GET', 'PATCH'], authLevel: 'function', handler });

    expect(getProgrammingModel()?.name).toBe('@azure/functions');
    const registration = getRegistrations().find((r) => r.metadata.name === 'shimmed');
    expect(registration?.handler).toBe(handler);
    const trigger = Object.values(registration?.metadata.bindings ?? {}).find((b) => b.type === 'httpTrigger');
    expect(trigger).toMatchObject({ direction: 'in', route: 'shim/{id:int}', methods: ['GET', 'PATCH'], authLevel: 'function' });
  });

  it('exposes registrations as a snapshot, not the live registry', () => {
    const snapshot = getRegistrations() as unknown[];
    snapshot.length = 0;
    expect(getRegistrations().length).toBeGreaterThan(0);
  });

  it('forgets a registration when its disposable is disposed', () => {
    const core = require(coreModuleName) as CoreApi;
    const disposable = core.registerFunction({ name: 'temporary', bindings: {} }, () => undefined);
    expect(getRegistrations().some((r) => r.metadata.name === 'temporary')).toBe(true);
    disposable.dispose();
    expect(getRegistrations().some((r) => r.metadata.name === 'temporary')).toBe(false);
  });
});
