import { describe, expect, it } from 'vitest';
import { Conflict, IdempotencyKeyReused, NotFound, Unavailable, ValidationError } from '../../shared/errors.js';
import {
  createIdempotencyService,
  IDEMPOTENCY_TTL_SECONDS,
  type IdempotentReply,
  ReplayedError,
} from '../../shared/idempotency/idempotency-service.js';
import { createLogger } from '../../shared/logger.js';
import type { SaveOptions, StateStore } from '../../shared/state/port.js';
import { uniqueId } from '../support/ids.js';
import { useStores } from '../support/stores.js';
import { deferred } from '../support/deferred.js';

const log = createLogger('silent');
const RUNNING_TIMEOUT_MS = 7000;

describe('idempotency records (the service over the hot store)', () => {
  const stores = useStores();
  const setup = (store: StateStore = stores.hot) => {
    const clock = { at: Date.now(), now: () => clock.at };
    const service = createIdempotencyService({ store, clock, runningTimeoutMs: RUNNING_TIMEOUT_MS });
    let runs = 0;
    const ids: string[] = [];
    const execute =
      (reply: IdempotentReply | (() => never)) =>
      async (derivedId: string): Promise<IdempotentReply> => {
        runs += 1;
        ids.push(derivedId);
        return typeof reply === 'function' ? reply() : reply;
      };
    return { clock, service, execute, runs: () => runs, ids };
  };
  const scope = (overrides: Partial<{ userId: string; key: string; request: unknown; operation: string }> = {}) => ({
    operation: 'tasks-create',
    userId: uniqueId('u'),
    key: uniqueId('k'),
    request: { title: 'A' },
    ...overrides,
  });
  const created: IdempotentReply = {
    status: 201,
    body: { task: { id: 't1' } },
    headers: { location: '/x/t1', etag: '"1"', 'x-other': 'no' },
  };

  it('runs once and answers the first reply again, with only location and etag kept from its headers', async () => {
    const { service, execute, runs } = setup();
    const s = scope();
    expect(await service.run(s, execute(created), log)).toEqual(created);
    const again = await service.run(s, execute({ status: 500 }), log);
    expect(again).toEqual({ status: 201, body: created.body, headers: { location: '/x/t1', etag: '"1"' } });
    expect(runs()).toBe(1);
  });

  it('treats the same request with its keys in another order as the same request', async () => {
    const { service, execute, runs } = setup();
    const s = scope({ request: { title: 'A', description: 'd' } });
    await service.run(s, execute(created), log);
    await service.run({ ...s, request: { description: 'd', title: 'A' } }, execute(created), log);
    expect(runs()).toBe(1);
  });

  it('answers 422 idempotency_key_reused for the same key with a different request, running nothing', async () => {
    const { service, execute, runs } = setup();
    const s = scope();
    await service.run(s, execute(created), log);
    await expect(service.run({ ...s, request: { title: 'B' } }, execute(created), log)).rejects.toBeInstanceOf(IdempotencyKeyReused);
    expect(runs()).toBe(1);
  });

  it('answers 409 while the first request is still running, and replays it once done', async () => {
    const { service, runs, execute } = setup();
    const s = scope();
    const started = deferred();
    const release = deferred();
    const first = service.run(
      s,
      async (id) => {
        started.resolve();
        await release.promise;
        return execute(created)(id);
      },
      log,
    );
    await started.promise;
    await expect(service.run(s, execute(created), log)).rejects.toBeInstanceOf(Conflict);
    release.resolve();
    expect((await first).status).toBe(201);
    expect((await service.run(s, execute({ status: 500 }), log)).status).toBe(201);
    expect(runs()).toBe(1);
  });

  it('lets a retry take over a running record older than the request budget (its request is gone)', async () => {
    const { clock, service, execute, runs } = setup();
    const s = scope();
    const started = deferred();
    void service.run(
      s,
      () => {
        started.resolve(); // its running record is written; it never answers
        return new Promise<IdempotentReply>(() => {});
      },
      log,
    );
    await started.promise;
    await expect(service.run(s, execute(created), log)).rejects.toBeInstanceOf(Conflict);
    clock.at += RUNNING_TIMEOUT_MS + 1;
    expect((await service.run(s, execute(created), log)).status).toBe(201);
    expect(runs()).toBe(1);
  });

  it('keeps one user’s key apart from another user’s same key', async () => {
    const { service, execute, runs, ids } = setup();
    const key = uniqueId('k');
    await service.run(scope({ userId: 'alice-x', key }), execute(created), log);
    await service.run(scope({ userId: 'bob-x', key, request: { title: 'other' } }), execute({ status: 201, body: 'bob' }), log);
    expect(runs()).toBe(2);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('stores a 4xx answer and replays it (code, status, details) without running again', async () => {
    const { service, execute, runs } = setup();
    const s = scope();
    const invalid = () => {
      throw new ValidationError([{ path: 'tasks', message: 'full' }]);
    };
    await expect(service.run(s, execute(invalid), log)).rejects.toBeInstanceOf(ValidationError);
    const replayed = await service.run(s, execute(created), log).catch((error: unknown) => error);
    expect(replayed).toBeInstanceOf(ReplayedError);
    expect(replayed).toMatchObject({ status: 400, code: 'validation_failed', details: [{ path: 'tasks', message: 'full' }] });
    expect(runs()).toBe(1);
  });

  it('does not store a 409 or a 503: the retry runs again, with the same derived id', async () => {
    const { service, execute, runs, ids } = setup();
    const s = scope();
    const conflict = () => {
      throw new Conflict('someone else won');
    };
    const unknown = () => {
      throw new Unavailable('timed out', { outcomeUnknown: true });
    };
    await expect(service.run(s, execute(conflict), log)).rejects.toBeInstanceOf(Conflict);
    await expect(service.run(s, execute(unknown), log)).rejects.toBeInstanceOf(Unavailable);
    await expect(
      service.run(
        s,
        execute(() => {
          throw new NotFound('gone');
        }),
        log,
      ),
    ).rejects.toBeInstanceOf(NotFound);
    expect(runs()).toBe(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('sends a 24 h TTL with every save of a record', async () => {
    const sent: SaveOptions[] = [];
    const recording: StateStore = {
      ...stores.hot,
      async save(key, value, options) {
        sent.push(options);
        return stores.hot.save(key, value, options);
      },
    };
    const { service, execute } = setup(recording);
    const s = scope();
    await service.run(s, execute(created), log);
    await service.run(s, execute(created), log);
    expect(sent.map((o) => o.mode)).toEqual(['create-only', 'compare-and-set', 'create-only']);
    expect(sent.map((o) => o.ttlSeconds)).toEqual([IDEMPOTENCY_TTL_SECONDS, IDEMPOTENCY_TTL_SECONDS, IDEMPOTENCY_TTL_SECONDS]);
    expect(IDEMPOTENCY_TTL_SECONDS).toBe(86_400);
  });

  it('reads its record back when the save of it timed out, and goes on when it landed', async () => {
    let first = true;
    const flaky: StateStore = {
      ...stores.hot,
      async save(key, value, options) {
        await stores.hot.save(key, value, options);
        if (first) {
          first = false;
          throw new Unavailable('save timed out', { outcomeUnknown: true });
        }
      },
    };
    const { service, execute, runs } = setup(flaky);
    const s = scope();
    expect((await service.run(s, execute(created), log)).status).toBe(201);
    expect((await service.run(s, execute(created), log)).status).toBe(201);
    expect(runs()).toBe(1);
  });

  it('settles its record in the background when it could not in the request, so a retry need not wait for the takeover', async () => {
    let failReads = 0;
    const flaky: StateStore = {
      ...stores.hot,
      get: (key) => (failReads-- > 0 ? Promise.reject(new Unavailable('budget spent')) : stores.hot.get(key)),
    };
    const { service, execute, runs } = setup(flaky);
    const s = scope();
    const started = deferred();
    const finished = service.run(
      s,
      async (id) => {
        failReads = 1; // the settle's read fails, as when the request's time budget is gone
        started.resolve();
        return execute(created)(id);
      },
      log,
    );
    await started.promise;
    expect((await finished).status).toBe(201);
    let retry: IdempotentReply | undefined;
    for (let i = 0; i < 50 && retry === undefined; i += 1) {
      retry = await service.run(s, execute(created), log).catch(async (error: unknown) => {
        if (!(error instanceof Conflict)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return undefined;
      });
    }
    expect(retry?.status).toBe(201);
    expect(runs()).toBe(1);
  });

  it('runs without a record when its store is down only if the operation says it converges on its own', async () => {
    const down: StateStore = {
      ...stores.hot,
      save: () => Promise.reject(new Unavailable('down')),
      get: () => Promise.reject(new Unavailable('down')),
    };
    const { service, execute, runs } = setup(down);
    await expect(service.run(scope(), execute(created), log)).rejects.toBeInstanceOf(Unavailable);
    expect(runs()).toBe(0);
    expect((await service.run({ ...scope(), whenStoreDown: 'proceed' }, execute(created), log)).status).toBe(201);
    expect(runs()).toBe(1);
  });
});
