import { DaprClient, CommunicationProtocolEnum, LogLevel, StateConcurrencyEnum, StateConsistencyEnum } from '@dapr/dapr';
import type { OperationType } from '@dapr/dapr/types/Operation.type.js';
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { z } from 'zod';
import { Unavailable } from '../errors.js';
import type { Log } from '../logger.js';
import { type CallContext, type CallFate, classify, classifyBulkItemError, StoreUnreachable } from './dapr-errors.js';
import { remainingMs } from './deadline.js';
import type { BulkEntry, SaveOptions, StateEntry, StateStore, TransactionOperation } from './port.js';
import { installTracePropagation } from './trace-propagation.js';

export interface DaprConnection {
  host: string;
  httpPort: number;
  /** Where the SDK's own warnings and errors go, at debug level (we log outcomes ourselves). */
  logger?: Log;
}

export interface DaprStateStoreOptions {
  /**
   * Every sidecar call is cut off after this long (the SDK has no timeout of its own), or sooner
   * when the request's budget (deadline.ts) ends first.
   */
  timeoutMs: number;
  /**
   * Consecutive store failures (transport errors, full-length timeouts, the sidecar's 5xx) that open
   * the circuit; conflicts, bad values and budget cut-offs never count.
   */
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

function sdkLogService(logger: Log | undefined) {
  const write = (message: unknown) => logger?.debug({ sdk: '@dapr/dapr' }, String(message));
  const drop = () => undefined;
  return { error: write, warn: write, info: drop, verbose: drop, debug: drop };
}

const bulkResponseSchema = z.array(
  z.object({ key: z.string(), data: z.unknown().optional(), etag: z.string().optional(), error: z.string().optional() }),
);

const HEALTH_PROBE_KEY = 'health:probe:ping';
/** What our key builders produce; anything else would need escaping in a URL path, or could collide. */
const SAFE_KEY = /^[A-Za-z0-9_:-]{1,400}$/;

function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key)) throw new Error(`unsafe state key ${JSON.stringify(key.slice(0, 80))}`);
}

/** Our own timer's rejection: never leaves the adapter (classify turns it into Unavailable). */
const TIMED_OUT = Symbol('timed out');

/**
 * The state port over the real DaprClient. It absorbs the SDK's traps (docs/dapr.md): `save` and
 * `delete` return `{error}` instead of throwing, `get` drops the ETag (so reads go through
 * `getBulk`), options must be numeric enums, metadata values strings, transaction ETags plain
 * strings, keys in paths unencoded, and no call has a timeout.
 */
export function createDaprStateStore(sidecar: DaprSidecar, name: string, options: DaprStateStoreOptions): StateStore {
  const { client } = sidecar;
  // Counts only StoreUnreachable (dapr-errors.ts): a request can never open the circuit by what it sends.
  const breaker = circuitBreaker(
    handleWhen((error) => error instanceof StoreUnreachable),
    {
      halfOpenAfter: options.breakerHalfOpenAfterMs ?? 5000,
      breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
    },
  );

  async function call<T>(context: CallContext, fn: () => Promise<T>): Promise<T> {
    if (remainingMs() <= 0) throw budgetSpent(context);
    // While the circuit is not closed, only a call with a whole timeout's time left may become the
    // probe that decides it: a short-budget call's timeout says nothing of the store, yet would keep
    // the circuit open for everyone for another period. Such a call fails like an open circuit, uncounted.
    if (breaker.state !== CircuitState.Closed && remainingMs() < options.timeoutMs) {
      throw new Unavailable(`state store ${name}: circuit open`);
    }
    try {
      return await breaker.execute(() => attempt(context, fn));
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new Unavailable(`state store ${name}: circuit open`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * One call under one timer, sized when it starts (a call may first wait for a half-open probe).
   * No AbortController: the SDK cannot abort a request, so a timed-out call is abandoned, and its
   * late answer or failure is ignored.
   */
  async function attempt<T>(context: CallContext, fn: () => Promise<T>): Promise<T> {
    const budget = remainingMs();
    if (budget <= 0) throw budgetSpent(context);
    const limitMs = Math.max(1, Math.min(options.timeoutMs, Math.floor(budget)));
    const fate: CallFate = { sent: false };
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        fate.timedOutAfterMs = limitMs;
        reject(TIMED_OUT);
      }, limitMs);
    });
    const work = (async () => {
      await sidecar.whenReady();
      // Timed out while the sidecar was still starting: the caller has been told nothing was sent
      // (a retry is safe), so nothing may be sent now.
      if (fate.timedOutAfterMs !== undefined) throw TIMED_OUT;
      fate.sent = true;
      return fn();
    })();
    // The abandoned branch's rejection is already answered by the timer's.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, expired]);
    } catch (error) {
      if (error === TIMED_OUT) {
        // A half-open probe that got no answer keeps the circuit open, however short its time was:
        // closing it on no evidence would send every request to a store that may still be down.
        fate.cutByBudget = limitMs < options.timeoutMs && breaker.state !== CircuitState.HalfOpen;
      }
      throw classify(error, context, name, fate);
    } finally {
      clearTimeout(timer);
    }
  }

  function budgetSpent(context: CallContext): Unavailable {
    return new Unavailable(`state store ${name}: ${context.operation} not sent: the request's time budget is spent`);
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
        if (item?.error) throw classifyBulkItemError(item.error, keys, name);
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
            deleteOptions.etag === undefined ? StateConcurrencyEnum.CONCURRENCY_LAST_WRITE : StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
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
        options.mode === 'overwrite' ? StateConcurrencyEnum.CONCURRENCY_LAST_WRITE : StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
      consistency: StateConsistencyEnum.CONSISTENCY_UNSPECIFIED,
    },
  };
}

function toSdkOperation(op: TransactionOperation): OperationType {
  const request =
    op.kind === 'delete' ? { key: op.key, ...(op.etag === undefined ? {} : { etag: op.etag }) } : toSdkItem(op.key, op.value, op.options);
  // The SDK types `etag` as {value} and would send that object, which daprd rejects: we send the string.
  return { operation: op.kind, request } as unknown as OperationType;
}
