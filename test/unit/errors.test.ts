import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Conflict, NotFound, Unavailable, ValidationError, errorResponse } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

describe('error mapping', () => {
  it('maps a validation error to 400 with details', () => {
    const { log } = capturingLogger();
    const response = errorResponse(new ValidationError([{ path: 'body.title', message: 'Required' }]), 'corr-1', log);
    expect(response).toEqual({
      status: 400,
      headers: { 'content-type': 'application/json' },
      jsonBody: {
        error: { code: 'validation_failed', message: 'The request is not valid.', details: [{ path: 'body.title', message: 'Required' }] },
        correlationId: 'corr-1',
      },
    });
  });

  it.each([
    [new NotFound('No such task.'), 404, 'not_found', 'No such task.'],
    [new Conflict('A concurrent change won.'), 409, 'conflict', 'A concurrent change won.'],
  ])('keeps the code and message of a 4xx', (error, status, code, message) => {
    const { log } = capturingLogger();
    expect(errorResponse(error, 'c', log).jsonBody).toEqual({ error: { code, message }, correlationId: 'c' });
    expect(errorResponse(error, 'c', log).status).toBe(status);
  });

  it('answers 503 with Retry-After and without naming the failing store', () => {
    const { log } = capturingLogger();
    const response = errorResponse(
      new Unavailable('state store statestore: redis at 10.0.0.4 refused', { retryAfterSeconds: 7 }),
      'c',
      log,
    );
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('7');
    expect(JSON.stringify(response.jsonBody)).not.toMatch(/statestore|redis|10\.0\.0\.4/);
  });

  it('says in a 503 body when a write may have been applied, so the client retries with its key', () => {
    const { log } = capturingLogger();
    const response = errorResponse(new Unavailable('save timed out', { outcomeUnknown: true }), 'c', log);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.jsonBody).toMatchObject({ error: { code: 'unavailable', outcome: 'unknown' }, correlationId: 'c' });
    const plain = errorResponse(new Unavailable('down'), 'c', log);
    expect(plain.jsonBody).toEqual({
      error: { code: 'unavailable', message: 'A backing service is unavailable. Retry later.' },
      correlationId: 'c',
    });
  });

  it('turns an unknown error into a 500 that leaks nothing but logs the stack', () => {
    const { log, lines } = capturingLogger();
    const secret = new Error('connection string host=db password=hunter2');
    const response = errorResponse(secret, 'corr-9', log);
    expect(response).toEqual({
      status: 500,
      headers: { 'content-type': 'application/json' },
      jsonBody: { error: { code: 'internal', message: 'An internal error occurred.' }, correlationId: 'corr-9' },
    });
    const logged = lines.find((line) => line.level === 'error');
    expect(logged?.err).toMatchObject({ message: 'connection string host=db password=hunter2' });
    expect(JSON.stringify(logged?.err)).toContain('errors.test.ts');
  });

  it('treats thrown non-errors as internal too', () => {
    const { log } = capturingLogger();
    expect(errorResponse('just a string', 'c', log).status).toBe(500);
    expect(errorResponse(undefined, 'c', log).status).toBe(500);
  });
});

describe('log redaction', () => {
  it('never writes credentials found in logged headers', () => {
    const { log, lines } = capturingLogger();
    log.info({ req: { headers: { authorization: 'Bearer abc', 'dapr-api-token': 'tok', 'x-ms-client-principal': 'eyJ' } } }, 'x');
    log.info({ headers: { authorization: 'Bearer abc' } }, 'y');
    expect(JSON.stringify(lines)).not.toMatch(/Bearer abc|"tok"|eyJ/);
  });
});
