import { healthAppIdMismatch } from './api-errors.js';
import { DAPRD_VERSION } from './daprd-release.js';
import type { Reply, Store } from './state-api.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * daprd's metadata and health endpoints, as daprd 1.16.4 answers them for an app whose only
 * components are state stores: no actors (no actor host ever registers with placement), no
 * subscriptions, HTTP endpoints, scheduler or workflow workers. Empty lists are left out of the
 * metadata document, as daprd's encoder does.
 */
export class RuntimeApi {
  /** `PUT /v1.0/metadata/{key}` values, reported under `extended`. */
  readonly #extended = new Map<string, string>();

  constructor(
    private readonly appId: string,
    private readonly stores: ReadonlyMap<string, Store>,
  ) {}

  metadata(): Reply {
    const components = [...this.stores.values()].map(({ component, backend }) => {
      const capabilities = [...backend.capabilities];
      // daprd adds ACTOR for every state store with ETags and transactions.
      if (capabilities.includes('ETAG') && capabilities.includes('TRANSACTIONAL')) capabilities.push('ACTOR');
      return { name: component.name, type: component.type, version: component.version, capabilities };
    });
    const extended = Object.fromEntries(
      [...this.#extended, ['daprRuntimeVersion', DAPRD_VERSION] as const].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    const body = {
      id: this.appId,
      runtimeVersion: DAPRD_VERSION,
      ...(components.length > 0 ? { components } : {}),
      extended,
      appConnectionProperties: { protocol: 'http', channelAddress: '127.0.0.1' },
      actorRuntime: { runtimeStatus: 'DISABLED', hostReady: false, placement: 'placement: disconnected' },
      workflows: {},
    };
    return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(body) };
  }

  /** daprd keeps the body as the value; an empty key changes nothing. */
  setMetadata(key: string, value: string): Reply {
    if (key !== '') this.#extended.set(key, value);
    return { status: 204 };
  }

  /** `?appid=` names the app the caller expects; daprd refuses when it is another. */
  healthz(query: URLSearchParams): Reply {
    if (query.has('appid') && query.get('appid') !== this.appId) throw healthAppIdMismatch();
    return { status: 204 };
  }
}
