import { parseConstraint, type ConstraintCheck } from './route-constraints.js';

interface LiteralPart {
  kind: 'literal';
  text: string;
}

interface ParamPart {
  kind: 'param';
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
  constraints: ConstraintCheck[];
}

type Part = LiteralPart | ParamPart;

interface Segment {
  params: ParamPart[];
  patterns: RegExp[];
  /** Whether a request path may end before this segment (optional / defaulted parameters only). */
  omittable: boolean;
  catchAll: ParamPart | undefined;
  rank: number;
}

export type RouteParams = Record<string, string>;

export interface CompiledRoute {
  readonly template: string;
  /** Per-segment specificity, lower is more specific (ASP.NET-style route ordering). */
  readonly precedence: readonly number[];
  match(pathname: string): RouteParams | undefined;
  /** The same, for a path already split and decoded by `splitPath` (once per request, not per route). */
  matchPath(pathSegments: readonly string[]): RouteParams | undefined;
}

const rank = { literal: 1, complex: 2, constrained: 3, param: 4, catchAll: 5 } as const;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function splitTopLevel(text: string, separator: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === separator && depth === 0) {
      pieces.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  pieces.push(current);
  return pieces;
}

function parseParam(body: string): ParamPart {
  let text = body.trim();
  const stars = /^\*{1,2}/.exec(text)?.[0].length ?? 0;
  text = text.slice(stars);
  const optional = text.endsWith('?');
  if (optional) text = text.slice(0, -1);
  const [head = '', ...defaultPieces] = splitTopLevel(text, '=');
  const [name = '', ...constraintTexts] = splitTopLevel(head, ':');
  return {
    kind: 'param',
    name: name.trim(),
    optional,
    catchAll: stars > 0,
    defaultValue: defaultPieces.length > 0 ? defaultPieces.join('=') : undefined,
    // Braces inside constraints are doubled in templates, e.g. regex(^\d{{3}}$).
    constraints: constraintTexts.map((c) => parseConstraint(c.trim().replace(/([{}])\1/g, '$1'))),
  };
}

function findParamEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === '}' && depth === 0) return i;
  }
  throw new Error(`Unterminated parameter in route segment "${text}"`);
}

function parseParts(text: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if ((ch === '{' || ch === '}') && text[i + 1] === ch) {
      literal += ch;
      i++;
    } else if (ch === '{') {
      if (literal) parts.push({ kind: 'literal', text: literal });
      literal = '';
      const end = findParamEnd(text, i + 1);
      parts.push(parseParam(text.slice(i + 1, end)));
      i = end;
    } else {
      literal += ch;
    }
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  return parts;
}

function isOmittable(part: Part): boolean {
  return part.kind === 'param' && (part.optional || part.catchAll || part.defaultValue !== undefined);
}

function partsPattern(parts: Part[]): RegExp {
  const source = parts.map((part) => (part.kind === 'literal' ? escapeRegex(part.text) : '(.+)')).join('');
  return new RegExp(`^${source}$`, 'is');
}

/**
 * Candidate patterns, tried in order. In `{name}.{ext?}` the trailing optional parameter and its
 * separator may be absent, so a second pattern without them is tried after the full one (keeping
 * earlier parameters greedy, as ASP.NET does: `a.b.c` gives name `a.b`, ext `c`).
 */
function segmentPatterns(parts: Part[]): RegExp[] {
  const last = parts.at(-1);
  const beforeLast = parts.at(-2);
  const trailingOptional = parts.length > 1 && last?.kind === 'param' && last.optional;
  if (!trailingOptional) return [partsPattern(parts)];
  const shortLength = beforeLast?.kind === 'literal' ? parts.length - 2 : parts.length - 1;
  return [partsPattern(parts), partsPattern(parts.slice(0, shortLength))];
}

function segmentRank(parts: Part[]): number {
  const [only] = parts;
  if (parts.length !== 1 || !only) return rank.complex;
  if (only.kind === 'literal') return rank.literal;
  if (only.catchAll) return rank.catchAll;
  return only.constraints.length > 0 ? rank.constrained : rank.param;
}

function compileSegment(text: string): Segment {
  const parts = parseParts(text);
  const params = parts.filter((p): p is ParamPart => p.kind === 'param');
  const [only] = parts;
  return {
    params,
    patterns: segmentPatterns(parts),
    omittable: parts.length > 0 && parts.every(isOmittable),
    catchAll: parts.length === 1 && only?.kind === 'param' && only.catchAll ? only : undefined,
    rank: segmentRank(parts),
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function splitSegments(path: string): string[] {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/** A request path's segments, percent-decoded. */
export function splitPath(pathname: string): string[] {
  return splitSegments(pathname).map(decodeSegment);
}

function assign(param: ParamPart, value: string | undefined, params: RouteParams): boolean {
  if (value === undefined || value === '') {
    if (param.defaultValue !== undefined) params[param.name] = param.defaultValue;
    return param.optional || param.catchAll || param.defaultValue !== undefined;
  }
  if (!param.constraints.every((check) => check(value))) return false;
  params[param.name] = value;
  return true;
}

function matchSegment(segment: Segment, value: string, params: RouteParams): boolean {
  for (const pattern of segment.patterns) {
    const groups = pattern.exec(value);
    const candidate: RouteParams = {};
    if (groups && segment.params.every((param, index) => assign(param, groups[index + 1], candidate))) {
      Object.assign(params, candidate);
      return true;
    }
  }
  return false;
}

function omitSegment(segment: Segment, params: RouteParams): boolean {
  return segment.omittable && segment.params.every((param) => assign(param, undefined, params));
}

function matchSegments(segments: Segment[], pathSegments: readonly string[], catchAll: boolean): RouteParams | undefined {
  // Longer than the template and no catch-all to take the rest: no segment needs looking at.
  if (pathSegments.length > segments.length && !catchAll) return undefined;
  const params: RouteParams = {};
  for (const [index, segment] of segments.entries()) {
    if (segment.catchAll) {
      const rest = pathSegments.slice(index).join('/');
      return assign(segment.catchAll, rest, params) ? params : undefined;
    }
    const value = pathSegments[index];
    const matched = value === undefined ? omitSegment(segment, params) : matchSegment(segment, value, params);
    if (!matched) return undefined;
  }
  return pathSegments.length <= segments.length ? params : undefined;
}

/** Compiles an Azure Functions route template (already including any route prefix). */
export function compileRoute(template: string): CompiledRoute {
  const segments = splitSegments(template).map(compileSegment);
  const catchAll = segments.some((segment) => segment.catchAll);
  return {
    template,
    precedence: segments.map((s) => s.rank),
    match: (pathname) => matchSegments(segments, splitPath(pathname), catchAll),
    matchPath: (pathSegments) => matchSegments(segments, pathSegments, catchAll),
  };
}

function trimSlashes(text: string): string {
  return text.replace(/^~?\/+/, '').replace(/\/+$/, '');
}

/** The full template a function answers on: `<prefix>/<route>`, where the route defaults to the function name. */
export function fullRouteTemplate(functionName: string, route: string | undefined, routePrefix = 'api'): string {
  const routePart = trimSlashes(route || functionName);
  const prefix = trimSlashes(routePrefix);
  return [prefix, routePart].filter((piece) => piece !== '').join('/');
}

/** Orders routes so literal segments win over parameters, and parameters over catch-alls. */
export function compareRoutePrecedence(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i++) {
    const diff = (a.precedence[i] ?? 0) - (b.precedence[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
