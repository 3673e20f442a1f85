import { app } from '@azure/functions';

/**
 * A floor for the benchmark, loaded into the host next to the real functions: the Functions layer
 * (host routing, @azure/functions request and response objects) with nothing of ours behind it.
 */
app.http('bench-noop', {
  route: 'bench/noop',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => ({ status: 200, jsonBody: { ok: true } }),
});
