import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, InvocationLog } from '../../shared/logger.js';

const fields = { correlationId: 'corr-1', functionName: 'things', invocationId: 'inv-1' };

function rootAt(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const root = createLogger(
    level,
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  let children = 0;
  const child = root.child.bind(root);
  root.child = ((...args: Parameters<typeof child>) => {
    children += 1;
    return child(...args);
  }) as typeof root.child;
  return { root, lines, children: () => children };
}

describe('an invocation’s log', () => {
  it('writes every line with the invocation’s fields, making one pino child for the whole invocation', () => {
    const { root, lines, children } = rootAt('info');
    const invocation = new InvocationLog(root, fields);
    invocation.log.warn({ attempt: 2 }, 'retrying');
    invocation.log.info('done');
    invocation.completed({ status: 200 }, 'request completed');
    expect(lines).toEqual([
      expect.objectContaining({ ...fields, level: 'warn', attempt: 2, msg: 'retrying' }),
      expect.objectContaining({ ...fields, level: 'info', msg: 'done' }),
      expect.objectContaining({ ...fields, level: 'info', status: 200, msg: 'request completed' }),
    ]);
    expect(children()).toBe(1);
  });

  it('makes no child for lines below the level, nor for the completion line alone', () => {
    const { root, lines, children } = rootAt('info');
    const invocation = new InvocationLog(root, fields);
    invocation.log.debug({ key: 'k' }, 'cache read');
    invocation.completed({ status: 200 }, 'request completed');
    expect(lines).toEqual([expect.objectContaining({ ...fields, status: 200, msg: 'request completed' })]);
    expect(children()).toBe(0);
  });

  it('keeps redacting what the root redacts, with or without the child', () => {
    const { root, lines } = rootAt('info');
    const quiet = new InvocationLog(root, fields);
    quiet.completed({ request: { headers: { authorization: 'Bearer secret' } } }, 'request completed');
    const chatty = new InvocationLog(root, fields);
    chatty.log.info({ request: { headers: { authorization: 'Bearer secret' } } }, 'seen');
    expect(JSON.stringify(lines)).not.toContain('secret');
    expect(lines).toHaveLength(2);
  });
});
