import { describe, expect, it } from 'vitest';
import { ifMatchAccepts, ifMatchSchema } from '../../shared/tasks/task-schemas.js';

const parse = (value: string) => ifMatchSchema.safeParse(value);
const accepts = (header: string, version: number) => {
  const parsed = ifMatchSchema.parse(header);
  if (parsed === undefined) throw new Error('no condition');
  return ifMatchAccepts(parsed, { version });
};

describe('If-Match (RFC 9110 §13.1.1, strong comparison)', () => {
  it('matches a strong tag equal to the current version', () => {
    expect(accepts('"3"', 3)).toBe(true);
    expect(accepts('"2"', 3)).toBe(false);
  });

  it('never matches a weak tag, even with the current version', () => {
    expect(accepts('W/"3"', 3)).toBe(false);
  });

  it('compares opaque tags character by character ("03" is not "3")', () => {
    expect(accepts('"03"', 3)).toBe(false);
    expect(accepts('"abc"', 3)).toBe(false);
  });

  it('matches when any tag of a list matches, ignoring empty list elements', () => {
    expect(accepts('"1", "3"', 3)).toBe(true);
    expect(accepts('W/"3", "4"', 3)).toBe(false);
    expect(accepts(' "1" ,, "3" ', 3)).toBe(true);
  });

  it('matches any current version with *', () => {
    expect(accepts('*', 1)).toBe(true);
    expect(accepts(' * ', 42)).toBe(true);
  });

  it('rejects what is not an entity-tag list', () => {
    for (const value of ['3', 'yesterday', '"3', 'W/3', '"3" "4"', '*, "3"', '', ' , ', '"a"b"']) {
      expect(parse(value).success, value).toBe(false);
    }
  });
});
