import type { Log } from '../logger.js';
import type { StateStore } from '../state/port.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  stores: Record<string, 'ok' | 'unavailable'>;
}

/** Probes every store through the sidecar in parallel; one failing store makes the report degraded. */
export async function checkHealth(stores: readonly StateStore[], log: Log): Promise<HealthReport> {
  const results = await Promise.all(
    stores.map(async (store) => {
      try {
        await store.ping();
        return [store.name, 'ok'] as const;
      } catch (error) {
        log.warn({ err: error, store: store.name }, 'health probe failed');
        return [store.name, 'unavailable'] as const;
      }
    }),
  );
  return {
    status: results.every(([, state]) => state === 'ok') ? 'ok' : 'degraded',
    stores: Object.fromEntries(results),
  };
}
