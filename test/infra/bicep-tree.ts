import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Language, type Node, Parser } from 'web-tree-sitter';

/**
 * Bicep read through its syntax tree (web-tree-sitter + tree-sitter-bicep): no Bicep compiler runs
 * here, so the tree is what the infra tests can check. Helpers answer questions about declarations
 * (params, vars, resources, modules, outputs), object properties and string values, and resolve an
 * identifier to the literal it stands for, through vars, param defaults and module call sites.
 */

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
export const infraDir = resolve(projectRoot, 'infra');

export interface BicepFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the project root, for messages. */
  name: string;
  source: string;
  root: Node;
}

let parser: Promise<Parser> | undefined;

function getParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const wasm = createRequire(import.meta.url).resolve('tree-sitter-bicep/tree-sitter-bicep.wasm');
    const language = await Language.load(wasm);
    return new Parser().setLanguage(language);
  })();
  return parser;
}

/** Parses Bicep source; `path` only names the file in messages. */
export async function parseBicep(source: string, path = '<inline>.bicep'): Promise<BicepFile> {
  const tree = (await getParser()).parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${path}`);
  return { path, name: relative(projectRoot, path) || path, source, root: tree.rootNode };
}

export function listBicepFiles(dir = infraDir): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => entry.endsWith('.bicep'))
    .map((entry) => resolve(dir, entry))
    .sort();
}

export async function loadInfra(): Promise<BicepFile[]> {
  return Promise.all(listBicepFiles().map((path) => parseBicep(readFileSync(path, 'utf8'), path)));
}

export function fileNamed(files: BicepFile[], name: string): BicepFile {
  const file = files.find((f) => f.name === name);
  if (!file) throw new Error(`${name} not found among ${files.map((f) => f.name).join(', ')}`);
  return file;
}

/** Every ERROR or MISSING node as `file:line:column: ...`; empty when the file parses cleanly. */
export function syntaxProblems(file: BicepFile): string[] {
  const problems: string[] = [];
  const visit = (node: Node) => {
    const where = `${file.name}:${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
    if (node.isMissing) {
      problems.push(`${where}: missing ${node.type}`);
    } else if (node.isError) {
      problems.push(`${where}: unexpected ${JSON.stringify(node.text.split('\n')[0]?.slice(0, 60))}`);
      return;
    }
    for (const child of node.children) visit(child);
  };
  visit(file.root);
  if (problems.length === 0 && file.root.hasError) problems.push(`${file.name}: the tree has an error`);
  return problems;
}

// ---- values --------------------------------------------------------------------------------------

/** Named children without comments (comments are "extras" and can sit anywhere). */
export function parts(node: Node): Node[] {
  return node.namedChildren.filter((child) => child.type !== 'comment' && child.type !== 'diagnostic_comment');
}

/** The text of a string literal; undefined for anything else, including interpolated strings. */
export function literal(node: Node | undefined): string | undefined {
  if (node?.type !== 'string') return undefined;
  const pieces = parts(node);
  if (pieces.some((piece) => piece.type === 'interpolation')) return undefined;
  return pieces.map((piece) => (piece.type === 'escape_sequence' ? unescapeSequence(piece.text) : piece.text)).join('');
}

function unescapeSequence(sequence: string): string {
  const escaped = sequence.slice(1);
  return ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[escaped] ?? escaped;
}

export function isInterpolated(node: Node): boolean {
  return node.type === 'string' && parts(node).some((piece) => piece.type === 'interpolation');
}

/** The key of an object property as written, without quotes. */
export function propertyKey(property: Node): string {
  const key = parts(property)[0];
  if (!key) return '';
  return key.type === 'string' ? (literal(key) ?? key.text) : key.text;
}

/** `{ key: value }` pairs of an object node (nested resource declarations are skipped). */
export function properties(object: Node): Array<{ key: string; value: Node; node: Node }> {
  return parts(object)
    .filter((child) => child.type === 'object_property' && parts(child).length === 2)
    .map((child) => ({ key: propertyKey(child), value: parts(child)[1] as Node, node: child }));
}

/** The value at a dotted path (`properties.configuration.dapr`) inside an object node. */
export function at(object: Node | undefined, path: string): Node | undefined {
  let current = object;
  for (const key of path.split('.')) {
    if (current?.type !== 'object') return undefined;
    current = properties(current).find((p) => p.key === key)?.value;
  }
  return current;
}

export function items(array: Node | undefined): Node[] {
  return array?.type === 'array' ? parts(array).filter((item) => item.type !== 'decorators') : [];
}

/** Every node of the given types under `node` (including `node`). */
export function descendants(node: Node, types: string | string[]): Node[] {
  return node.descendantsOfType(types);
}

// ---- declarations --------------------------------------------------------------------------------

export interface Decorator {
  name: string;
  args: Node[];
}

/** Decorators written above a top-level declaration. */
export function decoratorsOf(declaration: Node): Decorator[] {
  let previous = declaration.previousNamedSibling;
  while (previous && previous.type === 'comment') previous = previous.previousNamedSibling;
  if (previous?.type !== 'decorators') return [];
  return parts(previous).map((decorator) => {
    const call = parts(decorator)[0];
    const fn = call?.childForFieldName('function');
    const args = call?.childForFieldName('arguments');
    return { name: fn?.text ?? '', args: args ? parts(args) : [] };
  });
}

export interface Param {
  name: string;
  type: string;
  defaultValue: Node | undefined;
  decorators: Decorator[];
  node: Node;
}

export function params(file: BicepFile): Param[] {
  return parts(file.root)
    .filter((node) => node.type === 'parameter_declaration')
    .map((node) => {
      const [name, type, defaultValue] = parts(node);
      return { name: name?.text ?? '', type: type?.text ?? '', defaultValue, decorators: decoratorsOf(node), node };
    });
}

export function vars(file: BicepFile): Map<string, Node> {
  const result = new Map<string, Node>();
  for (const node of parts(file.root).filter((n) => n.type === 'variable_declaration')) {
    const [name, value] = parts(node);
    if (name && value) result.set(name.text, value);
  }
  return result;
}

export interface Output {
  name: string;
  type: string;
  value: Node;
}

export function outputs(file: BicepFile): Output[] {
  return parts(file.root)
    .filter((node) => node.type === 'output_declaration')
    .map((node) => {
      const [name, type, value] = parts(node);
      return { name: name?.text ?? '', type: type?.text ?? '', value: value as Node };
    });
}

export interface Resource {
  file: BicepFile;
  symbol: string;
  /** Full type, e.g. `Microsoft.App/containerApps` (child types declared inside a parent are expanded). */
  type: string;
  apiVersion: string;
  existing: boolean;
  /** Present when the resource is deployed only `if (condition)`. */
  condition: Node | undefined;
  body: Node;
  node: Node;
}

/** Resource declarations, top level and nested, of a file. */
export function resources(file: BicepFile): Resource[] {
  const result: Resource[] = [];
  for (const node of descendants(file.root, 'resource_declaration')) {
    const [symbol, typeString, value] = parts(node);
    const spec = literal(typeString) ?? '';
    const [typeName = '', apiVersion = ''] = spec.split('@');
    let type = typeName;
    const parent = node.parent?.parent;
    if (!typeName.includes('/') && parent?.type === 'object') {
      const outer = result.find((r) => r.body.equals(parent));
      if (outer) type = `${outer.type}/${typeName}`;
    }
    const condition = value?.type === 'if_statement' ? parts(value)[0] : undefined;
    const body = value?.type === 'if_statement' ? parts(value)[1] : value;
    if (!symbol || !body) continue;
    result.push({
      file,
      symbol: symbol.text,
      type,
      apiVersion,
      existing: node.children.some((child) => child.type === 'existing'),
      condition,
      body,
      node,
    });
  }
  return result;
}

export interface ModuleCall {
  symbol: string;
  /** Absolute path of the module file. */
  path: string;
  body: Node;
}

export function modules(file: BicepFile): ModuleCall[] {
  return parts(file.root)
    .filter((node) => node.type === 'module_declaration')
    .flatMap((node) => {
      const [symbol, source, value] = parts(node);
      const body = value?.type === 'if_statement' ? parts(value)[1] : value;
      const target = literal(source);
      if (!symbol || !body || !target) return [];
      return [{ symbol: symbol.text, path: resolve(dirname(file.path), target), body }];
    });
}

/** Every function call: `name` is the function (for `x.listKeys()`, `listKeys`). */
export function calls(file: BicepFile): Array<{ name: string; node: Node }> {
  return descendants(file.root, 'call_expression').map((node) => {
    const fn = node.childForFieldName('function');
    const name = fn?.type === 'member_expression' ? (fn.childForFieldName('property')?.text ?? '') : (fn?.text ?? '');
    return { name, node };
  });
}

export function line(node: Node): number {
  return node.startPosition.row + 1;
}

// ---- resolution ----------------------------------------------------------------------------------

/**
 * The literal string a value stands for: a string literal, or an identifier naming a var, or a
 * param whose value is the same at every module call site (falling back to its default), or a
 * `cond ? a : b` that `evaluate` decides. Undefined when the value is computed at deployment time.
 */
export function resolveString(files: BicepFile[], file: BicepFile, node: Node | undefined, depth = 0): string | undefined {
  if (!node || depth > 10) return undefined;
  if (node.type === 'string') return literal(node);
  if (node.type === 'parenthesized_expression' && parts(node).length === 1) {
    return resolveString(files, file, parts(node)[0], depth + 1);
  }
  if (node.type === 'member_expression') return resolveMember(files, file, node, depth);
  if (node.type === 'ternary_expression') {
    const value = evaluate(files, file, node, {}, depth + 1);
    return typeof value === 'string' ? value : undefined;
  }
  if (node.type !== 'identifier') return undefined;
  const variable = vars(file).get(node.text);
  if (variable) return resolveString(files, file, variable, depth + 1);
  const param = params(file).find((p) => p.name === node.text);
  if (!param) return undefined;
  const passed = files.flatMap((caller) =>
    modules(caller)
      .filter((call) => call.path === file.path)
      .map((call) => ({ caller, value: at(call.body, `params.${param.name}`) })),
  );
  const values = passed.map(({ caller, value }) =>
    value ? resolveString(files, caller, value, depth + 1) : resolveString(files, file, param.defaultValue, depth + 1),
  );
  if (values.length === 0) return resolveString(files, file, param.defaultValue, depth + 1);
  const distinct = new Set(values);
  return distinct.size === 1 && !distinct.has(undefined) ? values[0] : undefined;
}

/** `module.outputs.name` (through the module's output) and `resource.name` (the declared name). */
function resolveMember(files: BicepFile[], file: BicepFile, node: Node, depth: number): string | undefined {
  const object = node.childForFieldName('object');
  const property = node.childForFieldName('property')?.text;
  if (object?.type === 'identifier' && property === 'name') {
    const resource = resources(file).find((r) => r.symbol === object.text);
    return resource ? resolveString(files, file, at(resource.body, 'name'), depth + 1) : undefined;
  }
  const module = object?.type === 'member_expression' ? object.childForFieldName('object') : undefined;
  if (module?.type === 'identifier' && object?.childForFieldName('property')?.text === 'outputs' && property) {
    const call = modules(file).find((m) => m.symbol === module.text);
    const target = call && files.find((f) => f.path === call.path);
    const output = target && outputs(target).find((o) => o.name === property);
    return target && output ? resolveString(files, target, output.value, depth + 1) : undefined;
  }
  return undefined;
}

/** The Dapr app id the app runs under (`dapr run --app-id state-api`, dev/start.ts). */
export const DAPR_APP_ID = 'state-api';

// ---- switches --------------------------------------------------------------------------------------

/** Values assumed for params (by name) instead of what their call sites and defaults say. */
export type Assumptions = Record<string, string | boolean>;

/**
 * Evaluates the small expressions the templates switch on: string and boolean literals, vars and
 * params (through `resolveString`, or `assume`), `==`, `!=`, `!`, `empty()` and `cond ? a : b`.
 * Undefined for anything else.
 */
export function evaluate(
  files: BicepFile[],
  file: BicepFile,
  node: Node | undefined,
  assume: Assumptions = {},
  depth = 0,
): string | boolean | undefined {
  if (!node || depth > 20) return undefined;
  const again = (next: Node | undefined) => evaluate(files, file, next, assume, depth + 1);
  switch (node.type) {
    case 'string':
      return literal(node);
    case 'boolean':
      return node.text === 'true';
    case 'parenthesized_expression':
      return again(parts(node)[0]);
    case 'identifier': {
      if (node.text in assume) return assume[node.text];
      const variable = vars(file).get(node.text);
      if (variable) return again(variable);
      return resolveString(files, file, node, depth + 1);
    }
    case 'unary_expression': {
      const value = again(node.childForFieldName('argument') ?? undefined);
      return node.childForFieldName('operator')?.text === '!' && typeof value === 'boolean' ? !value : undefined;
    }
    case 'binary_expression': {
      const left = again(node.childForFieldName('left') ?? undefined);
      const right = again(node.childForFieldName('right') ?? undefined);
      if (left === undefined || right === undefined) return undefined;
      const operator = node.childForFieldName('operator')?.text;
      if (operator === '==') return left === right;
      if (operator === '!=') return left !== right;
      return undefined;
    }
    case 'call_expression': {
      const name = node.childForFieldName('function')?.text;
      const args = parts(node.childForFieldName('arguments') as Node);
      if (name === 'empty' && args.length === 1) {
        const value = again(args[0]);
        return typeof value === 'string' ? value === '' : undefined;
      }
      return undefined;
    }
    case 'ternary_expression': {
      const condition = again(node.childForFieldName('condition') ?? undefined);
      if (typeof condition !== 'boolean') return undefined;
      return again(node.childForFieldName(condition ? 'consequence' : 'alternative') ?? undefined);
    }
    default:
      return undefined;
  }
}

/**
 * The elements of an array-valued expression: an array literal, a var holding one, `concat()` of
 * such, or `cond ? a : b` with the branch chosen by `evaluate`. Throws for anything else, so a test
 * never silently reads an empty list.
 */
export function arrayItems(files: BicepFile[], file: BicepFile, node: Node | undefined, assume: Assumptions = {}): Node[] {
  if (!node) return [];
  if (node.type === 'array') return items(node);
  if (node.type === 'parenthesized_expression') return arrayItems(files, file, parts(node)[0], assume);
  if (node.type === 'identifier' && vars(file).has(node.text)) return arrayItems(files, file, vars(file).get(node.text), assume);
  if (node.type === 'call_expression' && node.childForFieldName('function')?.text === 'concat') {
    return parts(node.childForFieldName('arguments') as Node).flatMap((arg) => arrayItems(files, file, arg, assume));
  }
  if (node.type === 'ternary_expression') {
    const condition = evaluate(files, file, node.childForFieldName('condition') ?? undefined, assume);
    if (typeof condition !== 'boolean') throw new Error(`${file.name}:${line(node)}: cannot decide ${node.text.split('\n')[0]}`);
    return arrayItems(files, file, node.childForFieldName(condition ? 'consequence' : 'alternative') ?? undefined, assume);
  }
  throw new Error(`${file.name}:${line(node)}: not an array expression the tests can read: ${node.text.split('\n')[0]}`);
}
