import type { StoreError, StoreFlavour } from './backend.js';

/**
 * One entry of the `details` array daprd adds to its newer ("standardised") errors: a google.rpc
 * error detail, written as daprd's kit writes it (`@type` plus the detail's own fields).
 */
export type ErrorDetail = Record<string, unknown>;

/** An error answer in daprd's shape: `{"errorCode", "message", "details"?}` with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly details: readonly ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): { errorCode: string; message: string; details?: readonly ErrorDetail[] } {
    return {
      errorCode: this.errorCode,
      message: this.message,
      ...(this.details.length > 0 ? { details: this.details } : {}),
    };
  }
}

const GOOGLE_RPC = 'type.googleapis.com/google.rpc.';

/** The ErrorInfo every standardised daprd error carries; `metadata` is null when daprd passes none. */
export const errorInfo = (reason: string, metadata: Record<string, string> | null): ErrorDetail => ({
  '@type': `${GOOGLE_RPC}ErrorInfo`,
  domain: 'dapr.io',
  metadata,
  reason,
});

const resourceInfo = (store: string): ErrorDetail => ({
  '@type': `${GOOGLE_RPC}ResourceInfo`,
  description: '',
  owner: '',
  resource_name: store,
  resource_type: 'state',
});

/** A field violation as encoding/json writes the proto struct: empty fields are left out. */
const badRequest = (field: string, description: string): ErrorDetail => ({
  '@type': `${GOOGLE_RPC}BadRequest`,
  field_violations: [{ ...(field === '' ? {} : { field }), description }],
});

const appIdMetadata = (appId: string): Record<string, string> | null => (appId === '' ? null : { appID: appId });

/** A body the JSON decoder refused, on the bulk-get and transaction routes. */
export const malformedRequest = (detail: string): ApiError =>
  new ApiError(400, 'ERR_MALFORMED_REQUEST', `failed deserializing HTTP body: ${detail}`);

/** The save route reports the decoder's error text alone. */
export const malformedSaveBody = (detail: string): ApiError => new ApiError(400, 'ERR_MALFORMED_REQUEST', detail);

/**
 * A key containing `||`. daprd wraps its own error twice, so the message carries the gRPC prefix;
 * `field` is the key as sent, except in a transaction, where daprd has already cleared it.
 */
export const invalidKey = (store: string, field: string, detail: string): ApiError => {
  const message = `api error: code = InvalidArgument desc = ${detail}`;
  return new ApiError(400, 'ERR_MALFORMED_REQUEST', message, [
    badRequest(field, message),
    resourceInfo(store),
    errorInfo('DAPR_STATE_ILLEGAL_KEY', null),
  ]);
};

/** A body daprd could not read, on the routes that read it whole (query API, PUT metadata). */
export const bodyReadFailed = (detail: string): ApiError => new ApiError(400, 'ERR_BODY_READ', `failed to read request body: ${detail}`);

export const missingKey = (): ApiError => new ApiError(400, 'ERR_MALFORMED_REQUEST', '"key" is a required field');

/** `appId` is empty on the query API, which daprd answers through a path that passes none. */
export const storeNotFound = (store: string, appId: string): ApiError =>
  new ApiError(400, 'ERR_STATE_STORE_NOT_FOUND', `state store ${store} is not found`, [
    errorInfo('DAPR_STATE_NOT_FOUND', appIdMetadata(appId)),
  ]);

export const storeNotConfigured = (store: string, appId: string): ApiError =>
  new ApiError(500, 'ERR_STATE_STORE_NOT_CONFIGURED', `state store ${store} is not configured`, [
    errorInfo('DAPR_STATE_NOT_CONFIGURED', appIdMetadata(appId)),
  ]);

export const unsupportedOperation = (operation: string): ApiError =>
  new ApiError(400, 'ERR_NOT_SUPPORTED_STATE_OPERATION', `operation type ${operation} not supported`);

export const queryUnsupported = (store: string): ApiError =>
  new ApiError(500, 'ERR_STATE_STORE_NOT_SUPPORTED', 'state store does not support querying', [
    resourceInfo(store),
    errorInfo('DAPR_STATE_QUERYING_NOT_SUPPORTED', null),
  ]);

export const queryFailed = (store: string, detail: string): ApiError =>
  new ApiError(500, 'ERR_STATE_QUERY', `state store ${store} query failed: ${detail}`, [
    resourceInfo(store),
    errorInfo('DAPR_STATE_QUERY_FAILED', null),
  ]);

/**
 * daprd has no 404 of its own: a request no route takes (wrong path or wrong method) falls through
 * to service invocation, which finds no target app id and answers this.
 */
export const noRoute = (): ApiError =>
  new ApiError(404, 'ERR_DIRECT_INVOKE', 'failed getting app id either from the URL path or the header dapr-app-id');

export const healthAppIdMismatch = (): ApiError => new ApiError(500, 'ERR_HEALTH_APPID_NOT_MATCH', 'dapr app-id does not match');

/** How daprd's `stateErrorResponse` turns a store error into a status. */
export function statusForStoreError({ kind }: StoreError, flavour: StoreFlavour): number {
  switch (kind) {
    case 'etag-mismatch':
      return 409;
    case 'etag-invalid':
      // Postgres v2 ETags are UUIDs and an unparsable one simply matches no row.
      return flavour === 'postgresql' ? 409 : 400;
    case 'first-write-collision':
    case 'store-failure':
      return 500;
  }
}

export function saveFailed(store: string, status: number, detail: string): ApiError {
  return new ApiError(status, 'ERR_STATE_SAVE', `failed saving state in state store ${store}: ${detail}`);
}

export function deleteFailed(key: string, status: number, detail: string): ApiError {
  return new ApiError(status, 'ERR_STATE_DELETE', `failed deleting state with key ${key}: ${detail}`);
}

export function getFailed(key: string, store: string, detail: string): ApiError {
  return new ApiError(500, 'ERR_STATE_GET', `fail to get ${key} from state store ${store}: ${detail}`);
}

export function bulkGetFailed(detail: string): ApiError {
  return new ApiError(500, 'ERR_STATE_BULK_GET', detail);
}

/** daprd answers every failed transaction with 500, ETag mismatches included. */
export function transactionFailed(detail: string): ApiError {
  return new ApiError(500, 'ERR_STATE_TRANSACTION', `error while executing state transaction: ${detail}`);
}
