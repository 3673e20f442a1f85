import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.js';
import { keyBuilder, stateKey } from '../../shared/state/keys.js';

describe('state key builders', () => {
  it('builds <domain>:<type>:<id>', () => {
    expect(stateKey('chat', 'history', 'user_1-A')).toBe('chat:history:user_1-A');
    expect(keyBuilder('cache', 'tasks')('u1')).toBe('cache:tasks:u1');
  });

  it('accepts ids of exactly 128 characters', () => {
    expect(stateKey('chat', 'history', 'a'.repeat(128))).toBe(`chat:history:${'a'.repeat(128)}`);
  });

  it.each([
    ['a colon', 'a:b'],
    ['the Dapr key separator', 'a||b'],
    ['a newline', 'a\nb'],
    ['a NUL byte', 'a\u0000b'],
    ['a delete character', 'a\u007fb'],
    ['129 characters', 'a'.repeat(129)],
    ['nothing', ''],
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['non-ASCII letters', 'ü'],
  ])('rejects an id with %s', (_what, id) => {
    expect(() => stateKey('chat', 'history', id)).toThrow(ValidationError);
  });

  it('rejects a malformed domain or type, which would be a programming error', () => {
    expect(() => keyBuilder('Chat', 'history')).toThrow(/domain/);
    expect(() => keyBuilder('chat', 'his:tory')).toThrow(/type/);
  });
});
