import {
  type ApiError,
  bodyReadFailed,
  bulkGetFailed,
  deleteFailed,
  getFailed,
  invalidKey,
  malformedRequest,
  malformedSaveBody,
  missingKey,
  queryFailed,
  queryUnsupported,
  saveFailed,
  statusForStoreError,
  storeNotConfigured,
  storeNotFound,
  transactionFailed,
  unsupportedOperation,
} from './api-errors.js';
import type { BulkGetItem, Metadata, SaveOperation, StateBackend, StoreError, TransactionOperation } from './backend.js';
import type { ComponentSpec } from './components.js';
import type { KeyMapper } from './key-prefix.js';
import { parseBulkGetBody, parseSaveBody, parseStateRequest, parseTransactionBody, type StateRequest } from './requests.js';

/** A configured state store: its component, the backend serving it and its key prefix. */
export interface Store {
  component: ComponentSpec;
  backend: StateBackend;
  mapKey: KeyMapper;
}

/** What a state route needs from the HTTP request, already split out of the URL. */
export interface StateCall {
  store: string;
  query: URLSearchParams;
  /** Rejects with {@link BodyTooLarge} past daprd's body limit. */
  readBody: () => Promise<string>;
}

/** daprd's default `--max-body-size` (4Mi); Container Apps leaves it (the app sets no `httpMaxRequestSize`). */
export const MAX_BODY_BYTES = 4 << 20;

/** Reading stopped at {@link MAX_BODY_BYTES}; the message is the error text daprd's reader gives. */
export class BodyTooLarge extends Error {
  constructor() {
    super('stream too large');
    this.name = 'BodyTooLarge';
  }
}

/** The body, or the route's own refusal when it is over the limit. */
export async function bodyOf(readBody: () => Promise<string>, refuse: (detail: string) => ApiError): Promise<string> {
  try {
    return await readBody();
  } catch (error) {
    if (error instanceof BodyTooLarge) throw refuse(error.message);
    throw error;
  }
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const EMPTY: Reply = { status: 204 };

/** The state routes of daprd's HTTP API (see daprd-release.ts for the release), minus resiliency and encryption. */
export class StateApi {
  constructor(
    private readonly stores: ReadonlyMap<string, Store>,
    private readonly appId: string,
  ) {}

  async get(call: StateCall, key: string): Promise<Reply> {
    const store = this.#store(call.store);
    const result = await store.backend.get(mapKey(store, key), queryMetadata(call.query));
    if (!result.ok) throw getFailed(key, call.store, result.error.message);
    const state = result.value;
    if (state === undefined) return EMPTY;
    return {
      status: 200,
      headers: { ...JSON_HEADERS, ...(state.etag ? { etag: state.etag } : {}), ...metadataHeaders(state.metadata) },
      body: state.value,
    };
  }

  async save(call: StateCall): Promise<Reply> {
    const store = this.#store(call.store);
    const items = parseSaveBody(await bodyOf(call.readBody, malformedSaveBody));
    if (items.length === 0) return EMPTY;
    const query = queryMetadata(call.query);
    const operations = items.map((item) => {
      if (item.key === '') throw missingKey();
      return toOperation(store, item, query);
    });

    // daprd writes the items of one call in parallel: a failed item does not stop the others.
    const errors = (await Promise.all(operations.map((op) => store.backend.save(op)))).flatMap((result) =>
      result.ok ? [] : [result.error],
    );
    if (errors.length === 0) return EMPTY;
    const { status, message } = summarise(errors, store);
    throw saveFailed(call.store, status, message);
  }

  async delete(call: StateCall, key: string, ifMatch: string | undefined): Promise<Reply> {
    const store = this.#store(call.store);
    const result = await store.backend.delete({
      key: mapKey(store, key),
      etag: ifMatch,
      metadata: queryMetadata(call.query),
      options: queryOptions(call.query),
    });
    if (!result.ok) throw deleteFailed(key, statusForStoreError(result.error, store.backend.flavour), result.error.message);
    return EMPTY;
  }

  async bulkGet(call: StateCall): Promise<Reply> {
    const store = this.#store(call.store);
    const body = parseBulkGetBody(await bodyOf(call.readBody, malformedRequest));
    if (body.keys.length === 0) return { status: 200, headers: JSON_HEADERS, body: '[]\n' };
    const storedKeys = body.keys.map((key) => mapKey(store, key));
    const result = await store.backend.bulkGet(storedKeys, { ...body.metadata, ...queryMetadata(call.query) });
    if (!result.ok) throw bulkGetFailed(result.error.message);
    const items = body.keys.map((key, i) => bulkItemJson(key, result.value[i]));
    // Go's json.Encoder ends the document with a newline.
    return { status: 200, headers: JSON_HEADERS, body: `[${items.join(',')}]\n` };
  }

  async transaction(call: StateCall): Promise<Reply> {
    const store = this.#store(call.store);
    const body = parseTransactionBody(await bodyOf(call.readBody, malformedRequest));
    if (body.operations.length === 0) return EMPTY;
    // Since daprd 1.14.5 the URL's metadata.* goes into the transaction's metadata and into every
    // operation's, where it wins over the operation's own; the body's metadata stays at transaction level.
    const query = queryMetadata(call.query);
    const operations = body.operations.map(({ operation, request }): TransactionOperation => {
      if (operation !== 'upsert' && operation !== 'delete') throw unsupportedOperation(operation);
      // daprd has already replaced the key by the failed result when it reports it: the field is empty.
      return { operation, request: toOperation(store, parseStateRequest(request), query, '') };
    });
    const result = await store.backend.transact(operations, { ...body.metadata, ...query });
    if (!result.ok) throw transactionFailed(result.error.message);
    return EMPTY;
  }

  /**
   * The alpha query API (`/v1.0-alpha1/state/{store}/query`). Neither of our stores can answer a
   * query: PostgreSQL v2 has no query support at all, and Redis needs the RedisJSON module, which
   * the stand-in's Redis never has, so a query that parses fails the way daprd's Redis component fails it.
   */
  async query(call: StateCall): Promise<Reply> {
    const store = this.#store(call.store, '');
    if (store.backend.flavour === 'postgresql') throw queryUnsupported(call.store);
    const text = await bodyOf(call.readBody, bodyReadFailed);
    let query: unknown;
    try {
      query = JSON.parse(text);
    } catch (error) {
      throw queryFailed(call.store, `failed to parse JSON query body: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Go decodes `null` into an empty query; any other non-object fails to parse. (Filters are not
    // checked further: a malformed one fails with 500 ERR_STATE_QUERY in daprd too, worded differently.)
    if (query !== null && (typeof query !== 'object' || Array.isArray(query))) {
      throw queryFailed(call.store, 'failed to parse JSON query body: a query must be a JSON object');
    }
    throw queryFailed(call.store, 'redis-json server support is required for query capability');
  }

  /** daprd names the app in these errors, except on the query API (`appId` ''). */
  #store(name: string, appId = this.appId): Store {
    if (this.stores.size === 0) throw storeNotConfigured(name, appId);
    const store = this.stores.get(name);
    if (store === undefined) throw storeNotFound(name, appId);
    return store;
  }
}

function mapKey(store: Store, key: string, field = key): string {
  const mapped = store.mapKey(key);
  if (!mapped.ok) throw invalidKey(store.component.name, field, mapped.message);
  return mapped.key;
}

function toOperation(store: Store, request: StateRequest, query: Metadata, field = request.key): SaveOperation {
  return {
    key: mapKey(store, request.key, field),
    value: request.value,
    etag: request.etag,
    metadata: { ...request.metadata, ...query },
    options: request.options,
  };
}

/**
 * daprd's `etagError` finds the first ETag error among the items' errors and answers with it
 * alone; any other failure is a 500 carrying every item's error.
 */
function summarise(errors: readonly StoreError[], store: Store): { status: number; message: string } {
  const etagError = errors.find((e) => e.kind === 'etag-mismatch' || e.kind === 'etag-invalid');
  const decisive = etagError ?? errors[0];
  const status = decisive ? statusForStoreError(decisive, store.backend.flavour) : 500;
  const message = etagError ? etagError.message : errors.map((e) => e.message).join('\n');
  return { status, message };
}

/** Builds the JSON by hand so `data` is the stored JSON text, like daprd's json.RawMessage. */
function bulkItemJson(key: string, item: BulkGetItem | undefined): string {
  const fields = [`"key":${JSON.stringify(key)}`];
  if (item?.error) {
    fields.push(`"error":${JSON.stringify(item.error)}`);
  } else if (item?.state) {
    fields.push(`"data":${item.state.value}`);
    if (item.state.etag) fields.push(`"etag":${JSON.stringify(item.state.etag)}`);
    if (item.state.metadata) fields.push(`"metadata":${JSON.stringify(item.state.metadata)}`);
  }
  return `{${fields.join(',')}}`;
}

const METADATA_PREFIX = 'metadata.';

function queryMetadata(query: URLSearchParams): Metadata {
  const metadata: Record<string, string> = {};
  for (const [name, value] of query) {
    const field = name.slice(METADATA_PREFIX.length);
    // daprd keeps the first value of a repeated parameter.
    if (name.startsWith(METADATA_PREFIX) && !Object.hasOwn(metadata, field)) metadata[field] = value;
  }
  return metadata;
}

function queryOptions(query: URLSearchParams): StateRequest['options'] {
  const concurrency = query.get('concurrency');
  const consistency = query.get('consistency');
  return { ...(concurrency ? { concurrency } : {}), ...(consistency ? { consistency } : {}) };
}

function metadataHeaders(metadata: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([name, value]) => [`${METADATA_PREFIX}${name}`, value]));
}
