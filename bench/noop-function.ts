import { readFileSync } from 'node:fs';
import { app } from '@azure/functions';
import type { DaprSidecar } from '../shared/state/dapr-state-store.js';

/**
 * Floors for the benchmark, loaded into the host next to the real functions and bundled with them
 * (dev/bundle-functions.mjs), so they share the app's modules rather than load a second copy:
 * - `bench/noop`: the Functions layer (host routing, @azure/functions request and response
 *   objects) with nothing of ours behind it;
 * - `bench/sdk`: the same, plus the one @dapr/dapr call a history fetch makes (the same key, the
 *   same client set-up as the app), answering `{"ok":true}`: what that call costs inside the host;
 * - `bench/body`: answers the very page a history fetch answers (BENCH_HISTORY_PAGE names the
 *   file bench/main.ts saves it to) without reading anything: what an answer of that size costs.
 * The history fetch's CPU minus these is what our own code costs (bench/report.ts).
 */
app.http('bench-noop', {
  route: 'bench/noop',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => ({ status: 200, jsonBody: { ok: true } }),
});

const key = process.env.BENCH_HISTORY_KEY ?? 'bench:bare';
let sidecar: Promise<DaprSidecar> | undefined;
/** Connected on first use, as the app connects: the adapter (and the SDK) stay off the host's start-up. */
function connected(): Promise<DaprSidecar> {
  sidecar ??= import('../shared/state/dapr-state-store.js').then(async ({ connectDaprSidecar }) => {
    const connection = connectDaprSidecar({
      host: process.env.DAPR_HOST ?? '127.0.0.1',
      httpPort: Number(process.env.DAPR_HTTP_PORT ?? 3500),
    });
    await connection.whenReady();
    return connection;
  });
  return sidecar;
}

app.http('bench-sdk', {
  route: 'bench/sdk',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => {
    await (await connected()).client.state.getBulk('statestore', [key]);
    return { status: 200, jsonBody: { ok: true } };
  },
});

let page: unknown;

app.http('bench-body', {
  route: 'bench/body',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => {
    page ??= JSON.parse(readFileSync(process.env.BENCH_HISTORY_PAGE ?? '', 'utf8'));
    // Serialised per request by the library, as the history's page is.
    return { status: 200, jsonBody: page };
  },
});
