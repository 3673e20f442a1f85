import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../dev/sidecar/state-api.js';
import { APP_ID, postJson, postRaw, read, uniqueKey, useHarness } from './helpers.js';

const h = useHarness();

describe('GET /v1.0/state/{store}/{key}', () => {
  it('answers 204 with an empty body for an absent key', async () => {
    const response = await fetch(h.url(`/state/statestore/${uniqueKey('absent')}`));
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('etag')).toBeNull();
  });

  it('returns the saved JSON with its ETag header', async () => {
    const key = uniqueKey('get');
    expect((await postJson(h.url('/state/statestore'), [{ key, value: { b: [1, 2], a: 'x' } }])).status).toBe(204);

    const response = await fetch(h.url(`/state/statestore/${key}`));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('etag')).toBe('1');
    expect(await response.text()).toBe('{"b":[1,2],"a":"x"}');
  });

  it('stores a string value as a JSON string and a missing value as null', async () => {
    const text = uniqueKey('string');
    const missing = uniqueKey('missing');
    await postJson(h.url('/state/statestore'), [{ key: text, value: 'hello' }, { key: missing }]);

    expect(await (await fetch(h.url(`/state/statestore/${text}`))).text()).toBe('"hello"');
    expect(await (await fetch(h.url(`/state/statestore/${missing}`))).text()).toBe('null');
  });

  it('decodes a URL-encoded key', async () => {
    const key = `${uniqueKey('encoded')} with spaces`;
    await postJson(h.url('/state/statestore'), [{ key, value: 1 }]);
    expect((await read(await fetch(h.url(`/state/statestore/${encodeURIComponent(key)}`)))).body).toBe(1);
  });
});

describe('POST /v1.0/state/{store}', () => {
  it('answers 204 for an empty array and for null', async () => {
    expect((await postRaw(h.url('/state/statestore'), '[]')).status).toBe(204);
    expect((await postRaw(h.url('/state/statestore'), 'null')).status).toBe(204);
  });

  it('accepts PUT like POST', async () => {
    const key = uniqueKey('put');
    const response = await fetch(h.url('/state/statestore'), { method: 'PUT', body: JSON.stringify([{ key, value: 7 }]) });
    expect(response.status).toBe(204);
    expect((await read(await fetch(h.url(`/state/statestore/${key}`)))).body).toBe(7);
  });

  it("rejects malformed JSON with 400 ERR_MALFORMED_REQUEST, reporting the decoder's text without prefix", async () => {
    const { status, body } = await read(await postRaw(h.url('/state/statestore'), '[{"key":'));
    expect(status).toBe(400);
    expect(body).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST', message: expect.any(String) });
    const { message } = body as { message: string };
    expect(message.length).toBeGreaterThan(0);
    expect(message).not.toMatch(/^failed deserializing/);
  });

  it('rejects a body that is not an array of state items with 400', async () => {
    expect((await postJson(h.url('/state/statestore'), { key: 'k', value: 1 })).status).toBe(400);
  });

  it('rejects a metadata value that is not a string with 400, as the SDK trap in dapr.md describes', async () => {
    const key = uniqueKey('numeric-ttl');
    const { status, body } = await read(await postJson(h.url('/state/statestore'), [{ key, value: 1, metadata: { ttlInSeconds: 60 } }]));
    expect(status).toBe(400);
    expect(body).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
    expect((await fetch(h.url(`/state/statestore/${key}`))).status).toBe(204);
  });

  it('rejects an item without key with 400 and writes nothing', async () => {
    const key = uniqueKey('beside-missing');
    const { status, body } = await read(await postJson(h.url('/state/statestore'), [{ key, value: 1 }, { value: 2 }]));
    expect(status).toBe(400);
    expect(body).toEqual({ errorCode: 'ERR_MALFORMED_REQUEST', message: '"key" is a required field' });
    expect((await fetch(h.url(`/state/statestore/${key}`))).status).toBe(204);
  });
});

describe('DELETE /v1.0/state/{store}/{key}', () => {
  it('deletes a key and answers 204', async () => {
    const key = uniqueKey('delete');
    await postJson(h.url('/state/statestore'), [{ key, value: 1 }]);
    expect((await fetch(h.url(`/state/statestore/${key}`), { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(h.url(`/state/statestore/${key}`))).status).toBe(204);
  });

  it('answers 204 for an absent key', async () => {
    expect((await fetch(h.url(`/state/statestore/${uniqueKey('gone')}`), { method: 'DELETE' })).status).toBe(204);
  });
});

describe('keys containing ||', () => {
  const bad = 'a||b';
  const message = `api error: code = InvalidArgument desc = input key/keyPrefix '${bad}' can't contain '||'`;
  /** daprd's standardised error: the field violation names the key, except in a transaction (empty). */
  const invalidKeyBody = (field: string) => ({
    errorCode: 'ERR_MALFORMED_REQUEST',
    message,
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        field_violations: [{ ...(field ? { field } : {}), description: message }],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.ResourceInfo',
        description: '',
        owner: '',
        resource_name: 'statestore',
        resource_type: 'state',
      },
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', domain: 'dapr.io', metadata: null, reason: 'DAPR_STATE_ILLEGAL_KEY' },
    ],
  });
  const expectInvalidKey = async (response: Response, field = bad): Promise<void> => {
    expect(await read(response)).toMatchObject({ status: 400, body: invalidKeyBody(field) });
  };

  it("are rejected on get, save, delete, bulk get and transaction, with daprd's error details", async () => {
    await expectInvalidKey(await fetch(h.url(`/state/statestore/${encodeURIComponent(bad)}`)));
    await expectInvalidKey(await postJson(h.url('/state/statestore'), [{ key: bad, value: 1 }]));
    await expectInvalidKey(await fetch(h.url(`/state/statestore/${encodeURIComponent(bad)}`), { method: 'DELETE' }));
    await expectInvalidKey(await postJson(h.url('/state/statestore/bulk'), { keys: ['ok', bad] }));
    await expectInvalidKey(
      await postJson(h.url('/state/statestore/transaction'), {
        operations: [{ operation: 'upsert', request: { key: bad, value: 1 } }],
      }),
      '',
    );
    expect(
      h.backends
        .get('statestore')
        ?.storedKeys()
        .some((k) => k.includes(bad)),
    ).toBe(false);
  });
});

describe('an unknown store', () => {
  const expectNotFound = async (response: Response): Promise<void> => {
    expect(await read(response)).toMatchObject({
      status: 400,
      body: {
        errorCode: 'ERR_STATE_STORE_NOT_FOUND',
        message: 'state store nope is not found',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            domain: 'dapr.io',
            metadata: { appID: APP_ID },
            reason: 'DAPR_STATE_NOT_FOUND',
          },
        ],
      },
    });
  };

  it('answers 400 ERR_STATE_STORE_NOT_FOUND naming the app on every state route', async () => {
    await expectNotFound(await fetch(h.url('/state/nope/k')));
    await expectNotFound(await postJson(h.url('/state/nope'), [{ key: 'k', value: 1 }]));
    await expectNotFound(await fetch(h.url('/state/nope/k'), { method: 'DELETE' }));
    await expectNotFound(await postJson(h.url('/state/nope/bulk'), { keys: ['k'] }));
    await expectNotFound(await postJson(h.url('/state/nope/transaction'), { operations: [] }));
  });

  it('answers the query API without the app id, as daprd does', async () => {
    const { status, body } = await read(await postJson(`${h.sidecar.url}/v1.0-alpha1/state/nope/query`, { filter: {} }));
    expect(status).toBe(400);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_STORE_NOT_FOUND', details: [{ metadata: null, reason: 'DAPR_STATE_NOT_FOUND' }] });
  });
});

describe('POST /v1.0-alpha1/state/{store}/query on a Redis-flavoured store', () => {
  const queryUrl = () => `${h.sidecar.url}/v1.0-alpha1/state/statestore/query`;

  it('answers 500 ERR_STATE_QUERY with the parse failure for a body that is not a query', async () => {
    for (const body of ['{', '[]']) {
      const answer = await read(await postRaw(queryUrl(), body));
      expect(answer).toMatchObject({ status: 500, body: { errorCode: 'ERR_STATE_QUERY' } });
      expect((answer.body as { message: string }).message).toMatch(
        /^state store statestore query failed: failed to parse JSON query body: /,
      );
    }
  });

  it('reaches the store for null (an empty query to Go) and fails there for want of RedisJSON', async () => {
    expect(await read(await postRaw(queryUrl(), 'null'))).toMatchObject({
      status: 500,
      body: { message: 'state store statestore query failed: redis-json server support is required for query capability' },
    });
  });
});

describe("bodies over daprd's 4 MiB limit", () => {
  it('is daprd’s default --max-body-size, not just whatever the stand-in’s constant says', () => {
    expect(MAX_BODY_BYTES).toBe(4 * 1024 * 1024);
  });

  const big = 'x'.repeat(MAX_BODY_BYTES);

  it('are refused with 400 as each route reports a failed read, and nothing is written', async () => {
    const key = uniqueKey('too-big');
    expect(await read(await postJson(h.url('/state/statestore'), [{ key, value: big }]))).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_MALFORMED_REQUEST', message: 'stream too large' },
    });
    expect((await fetch(h.url(`/state/statestore/${key}`))).status).toBe(204);
    expect(await read(await postJson(h.url('/state/statestore/transaction'), { operations: [], pad: big }))).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_MALFORMED_REQUEST', message: 'failed deserializing HTTP body: stream too large' },
    });
    expect(await read(await fetch(h.url('/metadata/big'), { method: 'PUT', body: big + big }))).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_BODY_READ', message: 'failed to read request body: stream too large' },
    });
  });

  it('are read whole up to the limit', async () => {
    const key = uniqueKey('just-fits');
    const value = 'y'.repeat(MAX_BODY_BYTES - 200);
    expect((await postJson(h.url('/state/statestore'), [{ key, value }])).status).toBe(204);
    expect((await read(await fetch(h.url(`/state/statestore/${key}`)))).body).toBe(value);
  });
});

describe('stores are separate', () => {
  it('keeps the same key apart in two components', async () => {
    const key = uniqueKey('shared');
    await postJson(h.url('/state/statestore'), [{ key, value: 'hot' }]);
    await postJson(h.url('/state/statestore-durable'), [{ key, value: 'durable' }]);
    expect((await read(await fetch(h.url(`/state/statestore/${key}`)))).body).toBe('hot');
    expect((await read(await fetch(h.url(`/state/statestore-durable/${key}`)))).body).toBe('durable');
    expect(h.backends.get('statestore')?.storedKeys()).toContain(`${APP_ID}||${key}`);
  });
});
