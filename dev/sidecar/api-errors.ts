import type { StoreError, StoreFlavour } from './backend.js';

/** An error answer in daprd's shape: `{"errorCode", "message"}` with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): { errorCode: string; message: string } {
    return { errorCode: this.errorCode, message: this.message };
  }
}

export const malformedRequest = (detail: string): ApiError =>
  new ApiError(400, 'ERR_MALFORMED_REQUEST', `failed deserializing HTTP body: ${detail}`);

export const invalidKey = (message: string): ApiError => new ApiError(400, 'ERR_MALFORMED_REQUEST', message);

export const missingKey = (): ApiError => new ApiError(400, 'ERR_MALFORMED_REQUEST', '"key" is a required field');

export const storeNotFound = (store: string): ApiError =>
  new ApiError(400, 'ERR_STATE_STORE_NOT_FOUND', `state store ${store} is not found`);

export const storeNotConfigured = (): ApiError =>
  new ApiError(500, 'ERR_STATE_STORE_NOT_CONFIGURED', 'state store is not configured');

export const unsupportedOperation = (operation: string): ApiError =>
  new ApiError(400, 'ERR_NOT_SUPPORTED_STATE_OPERATION', `operation type ${operation} not supported`);

export const routeNotFound = (method: string, path: string): ApiError =>
  new ApiError(404, 'ERR_NOT_FOUND', `${method} ${path} not found`);

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
