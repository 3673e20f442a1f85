import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { ComponentSpec } from '../../dev/sidecar/components.js';
import { MemoryBackend } from '../../dev/sidecar/memory-backend.js';
import { startSidecar, type Sidecar } from '../../dev/sidecar/server.js';

export const APP_ID = 'test-app';

export const redisStore: ComponentSpec = {
  name: 'statestore',
  type: 'state.redis',
  version: 'v1',
  metadata: { keyPrefix: 'appid' },
};

export const postgresStore: ComponentSpec = {
  name: 'statestore-durable',
  type: 'state.postgresql',
  version: 'v2',
  metadata: { keyPrefix: 'appid' },
};

/** A clock the tests move by hand. */
export class FakeClock {
  #now = Date.UTC(2030, 0, 1);
  readonly now = (): number => this.#now;
  advanceSeconds(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

export interface Harness {
  sidecar: Sidecar;
  clock: FakeClock;
  /** The in-memory backend behind each component, by component name. */
  backends: Map<string, MemoryBackend>;
  url(path: string): string;
}

export async function startHarness(components: ComponentSpec[] = [redisStore, postgresStore]): Promise<Harness> {
  const clock = new FakeClock();
  const backends = new Map<string, MemoryBackend>();
  const sidecar = await startSidecar({
    appId: APP_ID,
    components,
    now: clock.now,
    createBackend: (component, { now }) => {
      const backend = new MemoryBackend({ now });
      backends.set(component.name, backend);
      return backend;
    },
  });
  return { sidecar, clock, backends, url: (path) => `${sidecar.url}/v1.0${path}` };
}

/** Starts a harness before the file's tests and closes it after them. */
export function useHarness(components?: ComponentSpec[]): Harness {
  let current: Harness | undefined;
  beforeAll(async () => {
    current = await startHarness(components);
  });
  afterAll(async () => {
    await current?.sidecar.close();
  });
  const started = (): Harness => {
    if (!current) throw new Error('the harness starts in beforeAll');
    return current;
  };
  return {
    get sidecar() {
      return started().sidecar;
    },
    get clock() {
      return started().clock;
    },
    get backends() {
      return started().backends;
    },
    url: (path) => started().url(path),
  };
}

/** Raw calls to one store's state routes. */
export function storeCalls(h: Harness, store = 'statestore') {
  return {
    save: (items: unknown[], query = ''): Promise<Response> => postJson(h.url(`/state/${store}${query}`), items),
    get: async (key: string) => read(await fetch(h.url(`/state/${store}/${key}`))),
    del: (key: string, etag?: string): Promise<Response> =>
      fetch(h.url(`/state/${store}/${key}`), { method: 'DELETE', headers: etag === undefined ? {} : { 'if-match': etag } }),
    transact: (body: unknown): Promise<Response> => postJson(h.url(`/state/${store}/transaction`), body),
  };
}

export function uniqueKey(label: string): string {
  return `${label}-${randomUUID()}`;
}

export function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export function postRaw(url: string, body: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

/** Status, headers of interest and the parsed body (or `""` when empty). */
export async function read(response: Response): Promise<{ status: number; etag: string | null; body: unknown }> {
  const text = await response.text();
  return { status: response.status, etag: response.headers.get('etag'), body: text === '' ? '' : JSON.parse(text) };
}
