import {
  DaprClient,
  CommunicationProtocolEnum,
  LogLevel,
  StateConcurrencyEnum,
  StateConsistencyEnum,
} from '@dapr/dapr';
import type { OperationType } from '@dapr/dapr/types/Operation.type.js';
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  timeout,
} from 'cockatiel';
import { z } from 'zod';
import { AlreadyExists, AppError, Conflict, Unavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BulkEntry, SaveOptions, StateEntry, StateStore, TransactionOperation } from './port.js';
import { installTracePropagation } from './trace-propagation.js';

export interface DaprConnection {
  host: string;
  httpPort: number;
  /** Where the SDK's own warnings and errors go, at debug level (we log outcomes ourselves). */
  logger?: Logger;
}

export interface DaprStateStoreOptions {
  /** Every sidecar call is cut off after this long (the SDK has no timeout of its own). */
  timeoutMs: number;
  /** Consecutive unavailable answers (timeouts included) that open the circuit; conflicts never count. */
  breakerThreshold?: number;
  /** How long an open circuit fails fast before letting one call through. */
  breakerHalfOpenAfterMs?: number;
}

/** One DaprClient per process (its keep-alive agents are static, docs/dapr.md), and its start-up. */
export interface DaprSidecar {
  readonly client: DaprClient;
  /**
   * Resolves once the sidecar has answered `/v1.0/metadata`. Shared by all calls, so a sidecar that
   * is not up yet gets one probe loop from the SDK, not one per request.
   */
  whenReady(): Promise<void>;
  close(): Promise<void>;
}

export function connectDaprSidecar(connection: DaprConnection): DaprSidecar {
  const client = new DaprClient({
    daprHost: connection.host,
    daprPort: String(connection.httpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    isKeepAlive: true,
    // Never debug: the SDK's debug lines carry request headers, the Dapr API token among them.
    logger: { level: LogLevel.Warn, service: sdkLogService(connection.logger) },
  });
  installTracePropagation(client.daprClient);
  let ready: Promise<void> | undefined;
  return {
    client,
    whenReady() {
      ready ??= client.start().catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      return ready;
    },
    close: () => client.stop(),
  };
}

function sdkLogService(logger: Logger | undefined) {
  const write = (message: unknown) => logger?.debug({ sdk: '@dapr/dapr' }, String(message));
  const drop = () => undefined;
  return { error: write, warn: write, info: drop, verbose: drop, debug: drop };
}

/** The sidecar or the store refused the request itself: a bug on our side, never shown to callers. */
export class StateRequestRejected extends Error {
  constructor(readonly status: number, readonly storeMessage: string) {
    super(`state store rejected the request (${status}): ${storeMessage}`);
    this.name = 'StateRequestRejected';
  }
}

type Operation = 'get' | 'save' | 'delete' | 'bulk' | 'transaction';

interface CallContext {
  operation: Operation;
  etagSent: boolean;
  createOnly: boolean;
  /** The keys involved: removed from store messages before reading them, since ids are caller-chosen. */
  keys: readonly string[];
}

const sdkFailureSchema = z.object({ status: z.number(), error_msg: z.string().optional() });
const bulkResponseSchema = z.array(
  z.object({ key: z.string(), data: z.unknown().optional(), etag: z.string().optional(), error: z.string().optional() }),
);

/** Redis answers "failed to set key", PostgreSQL v2 "no item was updated" when a first-write save finds the key. */
const CREATE_COLLISION = /failed to set key|no item was updated/i;
const ETAG_PROBLEM = /etag|failed to set key|no item was updated|possible etag mismatch/i;
const HEALTH_PROBE_KEY = 'health:probe:ping';
/**
 * Store errors that mean "could not talk to the database", whatever status daprd wrapped them in
 * (go-redis, pgx, and the stand-in's ioredis/pg). Matched only after the keys are removed from the
 * message: ids are chosen by callers and could spell any of these.
 */
const TRANSPORT_FAILURE = new RegExp(
  [
    'connection refused',
    'connection reset',
    'broken pipe',
    'i/o timeout',
    'dial tcp',
    'no such host',
    '\\bEOF\\b',
    'context deadline exceeded',
    'connection pool timeout',
    'client is closed',
    'connection is closed',
    "stream isn't writeable",
    'command timed out',
    'max retries per request',
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
  ].join('|'),
  'i',
);
/** What our key builders produce; anything else would need escaping in a URL path, or could collide. */
const SAFE_KEY = /^[A-Za-z0-9_:-]{1,400}$/;

function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key)) throw new Error(`unsafe state key ${JSON.stringify(key.slice(0, 80))}`);
}

/**
 * The state port over the real DaprClient. It absorbs the SDK's traps (docs/dapr.md): `save` and
 * `delete` return `{error}` instead of throwing, `get` drops the ETag (so reads go through
 * `getBulk`), options must be numeric enums, metadata values strings, transaction ETags plain
 * strings, keys in paths unencoded, and no call has a timeout.
 */
export function createDaprStateStore(sidecar: DaprSidecar, name: string, options: DaprStateStoreOptions): StateStore {
  const { client } = sidecar;
  // Counts only Unavailable: timeouts are classified as such inside it, conflicts never are.
  const breaker = circuitBreaker(handleWhen((error) => error instanceof Unavailable), {
    halfOpenAfter: options.breakerHalfOpenAfterMs ?? 5000,
    breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
  });
  const deadline = timeout(options.timeoutMs, TimeoutStrategy.Aggressive);

  async function call<T>(context: CallContext, fn: () => Promise<T>): Promise<T> {
    try {
      // A signal per call: cockatiel's shared default signal would collect a listener per concurrent call.
      return await breaker.execute(async () => {
        try {
          return await deadline.execute(async () => {
            await sidecar.whenReady();
            return fn();
          }, new AbortController().signal);
        } catch (error) {
          throw classify(error, context, name, options.timeoutMs);
        }
      }, new AbortController().signal);
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new Unavailable(`state store ${name}: circuit open`, { cause: error });
      }
      throw error;
    }
  }

  async function getBulk(keys: readonly string[]): Promise<BulkEntry[]> {
    if (keys.length === 0) return [];
    for (const key of keys) assertSafeKey(key);
    return call({ operation: 'bulk', etagSent: false, createOnly: false, keys }, async () => {
      const items = bulkResponseSchema.safeParse(await client.state.getBulk(name, [...keys]));
      if (!items.success) throw new Error(`state store ${name}: unexpected bulk response`);
      const byKey = new Map(items.data.map((item) => [item.key, item]));
      return keys.map((key) => {
        const item = byKey.get(key);
        if (item?.error) throw new Unavailable(`state store ${name}: bulk get failed for a key: ${item.error}`);
        if (!item || item.data === undefined) return { key, entry: null };
        if (item.etag === undefined) throw new Error(`state store ${name}: value without an ETag`);
        return { key, entry: { value: item.data, etag: item.etag } };
      });
    });
  }

  return {
    name,

    async get(key: string): Promise<StateEntry | null> {
      const [first] = await getBulk([key]);
      return first?.entry ?? null;
    },

    getBulk,

    async save(key: string, value: unknown, saveOptions: SaveOptions): Promise<void> {
      const context: CallContext = {
        operation: 'save',
        etagSent: saveOptions.mode === 'compare-and-set',
        createOnly: saveOptions.mode === 'create-only',
        keys: [key],
      };
      assertSafeKey(key);
      await call(context, async () => {
        const result = await client.state.save(name, [toSdkItem(key, value, saveOptions)]);
        if (result.error) throw result.error;
      });
    },

    async saveBulk(items): Promise<void> {
      if (items.length === 0) return;
      for (const item of items) assertSafeKey(item.key);
      const context: CallContext = {
        operation: 'save',
        etagSent: items.some((item) => item.options.mode === 'compare-and-set'),
        createOnly: items.every((item) => item.options.mode === 'create-only'),
        keys: items.map((item) => item.key),
      };
      await call(context, async () => {
        const result = await client.state.save(
          name,
          items.map((item) => toSdkItem(item.key, item.value, item.options)),
        );
        if (result.error) throw result.error;
      });
    },

    async delete(key: string, deleteOptions: { etag?: string } = {}): Promise<void> {
      const context: CallContext = { operation: 'delete', etagSent: deleteOptions.etag !== undefined, createOnly: false, keys: [key] };
      assertSafeKey(key);
      await call(context, async () => {
        // Sent unencoded in the path: safe keys need no escaping, and daprd need not unescape them.
        const result = await client.state.delete(name, key, {
          ...(deleteOptions.etag === undefined ? {} : { etag: deleteOptions.etag }),
          concurrency:
            deleteOptions.etag === undefined
              ? StateConcurrencyEnum.CONCURRENCY_LAST_WRITE
              : StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
        });
        if (result.error) throw result.error;
      });
    },

    async transaction(operations: readonly TransactionOperation[]): Promise<void> {
      if (operations.length === 0) return;
      for (const op of operations) assertSafeKey(op.key);
      const context: CallContext = {
        operation: 'transaction',
        etagSent: operations.some((op) => (op.kind === 'delete' ? op.etag !== undefined : op.options.mode === 'compare-and-set')),
        createOnly: false,
        keys: operations.map((op) => op.key),
      };
      await call(context, () => client.state.transaction(name, operations.map(toSdkOperation)));
    },

    async ping(): Promise<void> {
      await getBulk([HEALTH_PROBE_KEY]);
    },
  };
}

/** A fresh item object per call: the SDK rewrites the option objects it is given. */
function toSdkItem(key: string, value: unknown, options: SaveOptions) {
  return {
    key,
    value,
    ...(options.mode === 'compare-and-set' ? { etag: options.etag } : {}),
    ...(options.ttlSeconds === undefined ? {} : { metadata: { ttlInSeconds: String(options.ttlSeconds) } }),
    options: {
      concurrency:
        options.mode === 'overwrite'
          ? StateConcurrencyEnum.CONCURRENCY_LAST_WRITE
          : StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
      consistency: StateConsistencyEnum.CONSISTENCY_UNSPECIFIED,
    },
  };
}

function toSdkOperation(op: TransactionOperation): OperationType {
  const request =
    op.kind === 'delete'
      ? { key: op.key, ...(op.etag === undefined ? {} : { etag: op.etag }) }
      : toSdkItem(op.key, op.value, op.options);
  // The SDK types `etag` as {value} and would send that object, which daprd rejects: we send the string.
  return { operation: op.kind, request } as unknown as OperationType;
}

function classify(error: unknown, context: CallContext, store: string, timeoutMs: number): Error {
  if (error instanceof AppError) return error;
  if (error instanceof TaskCancelledError) {
    return new Unavailable(`state store ${store}: ${context.operation} timed out after ${timeoutMs} ms`, { cause: error });
  }
  const failure = parseSdkFailure(error);
  if (!failure) {
    // Not an HTTP answer: connection refused/reset, DNS, or the SDK giving up waiting for the sidecar.
    return new Unavailable(`state store ${store}: ${context.operation} failed to reach the sidecar`, { cause: error });
  }
  const { status } = failure;
  const message = context.keys.reduce((text, key) => text.replaceAll(key, '<key>'), failure.message);
  // The Redis component reports every failed delete, and every failed save that carried an ETag,
  // as an ETag mismatch (409), and a failed create-only save as "failed to set key" (500), even
  // when Redis itself was unreachable: the cause decides.
  if ((status === 409 || status === 500) && TRANSPORT_FAILURE.test(message)) {
    return new Unavailable(`state store ${store}: ${context.operation} failed (${status}, store unreachable): ${message}`, { cause: error });
  }
  if (status === 409) return new Conflict('A concurrent change won. Retry the request.', { cause: error });
  // Redis cannot parse a foreign ETag (400) where PostgreSQL calls it a mismatch (409): same meaning.
  if (status === 400 && context.etagSent && /etag/i.test(message)) {
    return new Conflict('A concurrent change won. Retry the request.', { cause: error });
  }
  if (status === 500 && context.createOnly && CREATE_COLLISION.test(message)) {
    return new AlreadyExists('The item already exists.', { cause: error });
  }
  // A failed transaction always answers 500, an ETag mismatch included.
  if (status === 500 && context.operation === 'transaction' && context.etagSent && ETAG_PROBLEM.test(message)) {
    return new Conflict('A concurrent change won. Retry the request.', { cause: error });
  }
  if (status >= 500) {
    return new Unavailable(`state store ${store}: ${context.operation} failed (${status}): ${message}`, { cause: error });
  }
  return new StateRequestRejected(status, message);
}

function parseSdkFailure(error: unknown): { status: number; message: string } | null {
  if (!(error instanceof Error)) return null;
  let body: unknown;
  try {
    body = JSON.parse(error.message);
  } catch {
    return null;
  }
  const parsed = sdkFailureSchema.safeParse(body);
  return parsed.success ? { status: parsed.data.status, message: parsed.data.error_msg ?? '' } : null;
}
