import { describe, expect, it } from 'vitest';
import { getProgrammingModel, installCoreShim } from '../../dev/host/core-shim.js';

describe('telling the Functions host that the worker exports its own telemetry', () => {
  it('declares WorkerOpenTelemetryEnabled in the capabilities the worker asks for once the files are loaded', async () => {
    // As the worker does: its core module first, then @azure/functions and the app's modules.
    installCoreShim();
    const { declareWorkerTelemetry } = await import('../../shared/telemetry/setup.js');
    const { app } = await import('@azure/functions');
    declareWorkerTelemetry('InstrumentationKey=00000000-0000-0000-0000-000000000000');
    // The library hands the worker its programming model with the first registration.
    app.http('capability-probe', { route: 'probe', handler: async () => ({ status: 204 }) });
    const model = getProgrammingModel();
    expect(model).toBeDefined();
    expect(await model?.getCapabilities?.({})).toMatchObject({ WorkerOpenTelemetryEnabled: 'true' });
  });

  it('declares nothing without a connection string', async () => {
    const { declareWorkerTelemetry } = await import('../../shared/telemetry/setup.js');
    // After the capabilities were sent, app.setup throws: a call that does nothing cannot.
    expect(() => declareWorkerTelemetry(undefined)).not.toThrow();
    expect(() => declareWorkerTelemetry('')).not.toThrow();
  });
});
