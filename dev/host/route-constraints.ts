// Route constraints as understood by the Functions host (ASP.NET Core routing).
// Unknown constraints accept every value, so an unusual template still routes.

export type ConstraintCheck = (value: string) => boolean;

const int32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const int64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const integerPattern = /^\s*[+-]?\d+\s*$/;
const decimalPattern = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const guidPatterns = [
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^[0-9a-f]{32}$/i,
  /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/i,
  /^\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$/i,
];

function toBigInt(value: string): bigint | undefined {
  return integerPattern.test(value) ? BigInt(value.trim()) : undefined;
}

function integerIn(range: { min: bigint; max: bigint }): ConstraintCheck {
  return (value) => {
    const n = toBigInt(value);
    return n !== undefined && n >= range.min && n <= range.max;
  };
}

function numberArgs(args: string): number[] {
  return args.split(',').map((a) => Number(a.trim()));
}

function lengthCheck(args: string): ConstraintCheck {
  const [min = 0, max = min] = numberArgs(args);
  return args.includes(',') ? (v) => v.length >= min && v.length <= max : (v) => v.length === min;
}

function valueBetween(min: number, max: number): ConstraintCheck {
  return (value) => {
    const n = toBigInt(value);
    return n !== undefined && Number(n) >= min && Number(n) <= max;
  };
}

function regexCheck(pattern: string): ConstraintCheck {
  try {
    const regex = new RegExp(pattern, 'i');
    return (value) => regex.test(value);
  } catch {
    return () => true;
  }
}

const simpleConstraints: Record<string, ConstraintCheck> = {
  int: integerIn(int32),
  long: integerIn(int64),
  alpha: (v) => /^[a-z]*$/i.test(v),
  bool: (v) => /^(true|false)$/i.test(v.trim()),
  guid: (v) => guidPatterns.some((p) => p.test(v)),
  double: (v) => decimalPattern.test(v),
  float: (v) => decimalPattern.test(v),
  decimal: (v) => decimalPattern.test(v),
  datetime: (v) => !Number.isNaN(Date.parse(v)),
  required: (v) => v.length > 0,
};

function argumentConstraint(name: string, args: string): ConstraintCheck | undefined {
  const [first = 0, second = 0] = numberArgs(args);
  switch (name) {
    case 'min':
      return valueBetween(first, Number.POSITIVE_INFINITY);
    case 'max':
      return valueBetween(Number.NEGATIVE_INFINITY, first);
    case 'range':
      return valueBetween(first, second);
    case 'length':
      return lengthCheck(args);
    case 'minlength':
      return (v) => v.length >= first;
    case 'maxlength':
      return (v) => v.length <= first;
    case 'regex':
      return regexCheck(args);
    default:
      return undefined;
  }
}

/** Parses one constraint such as `int`, `min(1)` or `regex(^a+$)`. */
export function parseConstraint(text: string): ConstraintCheck {
  const call = /^(\w+)\((.*)\)$/s.exec(text);
  if (call) {
    const [, name = '', args = ''] = call;
    return argumentConstraint(name.toLowerCase(), args) ?? (() => true);
  }
  return simpleConstraints[text.toLowerCase()] ?? (() => true);
}
