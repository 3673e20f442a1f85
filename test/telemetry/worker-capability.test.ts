import { beforeAll, describe, expect, it } from 'vitest';
import { getProgrammingModel, installCoreShim } from '../../dev/host/core-shim.js';

let declareWorkerTelemetry: (connectionString: string | undefined) => void;

beforeAll(async () => {
  // As the worker does: its core module first, then @azure/functions and the app's modules.
  installCoreShim();
  ({ declareWorkerTelemetry } = await import('../../shared/telemetry/setup.js'));
  const { app } = await import('@azure/functions');
  // The library hands the worker its programming model with the first registration.
  app.http('capability-probe', { route: 'capability-probe', handler: async () => ({ status: 204 }) });
});

const capabilities = async () => {
  const model = getProgrammingModel();
  if (!model?.getCapabilities) throw new Error('no programming model registered');
  return model.getCapabilities({});
};

describe('telling the Functions host that the worker exports its own telemetry', () => {
  it('declares WorkerOpenTelemetryEnabled in the capabilities the worker asks for once the files are loaded', async () => {
    declareWorkerTelemetry('InstrumentationKey=00000000-0000-0000-0000-000000000000');
    expect(await capabilities()).toMatchObject({ WorkerOpenTelemetryEnabled: 'true' });
  });

  it('never touches the setup without a connection string, so it is safe after the capabilities were sent', async () => {
    await capabilities(); // the library refuses app.setup from here on
    expect(() => declareWorkerTelemetry(undefined)).not.toThrow();
    expect(() => declareWorkerTelemetry('')).not.toThrow();
    expect(() => declareWorkerTelemetry('InstrumentationKey=x')).toThrow(/after app startup/);
  });
});
