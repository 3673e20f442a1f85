import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/** A state store component as daprd sees it after reading its YAML. */
export interface ComponentSpec {
  name: string;
  /** e.g. `state.redis`, `state.postgresql` */
  type: string;
  version: string;
  metadata: Record<string, string>;
}

const metadataValueSchema = z.union([z.string(), z.number(), z.boolean()]);

const componentDocumentSchema = z.object({
  kind: z.literal('Component'),
  metadata: z.object({ name: z.string().min(1) }),
  spec: z.object({
    type: z.string().min(1),
    version: z.string().min(1),
    metadata: z.array(z.object({ name: z.string().min(1), value: metadataValueSchema.nullish() })).nullish(),
  }),
});

const anyDocumentSchema = z.object({ kind: z.string().optional() }).loose();

export class ComponentFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`invalid component file ${file}: ${detail}`);
    this.name = 'ComponentFileError';
  }
}

/** Reads every `*.yaml`/`*.yml` in `dir` (sorted by name) and returns the state store components. */
export async function loadStateComponents(dir: string): Promise<ComponentSpec[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/i.test(f)).sort();
  const components: ComponentSpec[] = [];
  for (const file of files) {
    const path = join(dir, file);
    components.push(...parseComponentFile(path, await readFile(path, 'utf8')));
  }
  assertUniqueNames(components);
  return components;
}

/** Parses one (possibly multi-document) YAML file; `file` is only used in error messages. */
export function parseComponentFile(file: string, source: string): ComponentSpec[] {
  const components: ComponentSpec[] = [];
  for (const document of parseAllDocuments(source)) {
    if (document.errors.length > 0) {
      throw new ComponentFileError(file, document.errors.map((e) => e.message).join('; '));
    }
    const component = toComponent(file, document.toJS());
    if (component?.type.startsWith('state.')) components.push(component);
  }
  return components;
}

function toComponent(file: string, document: unknown): ComponentSpec | undefined {
  if (document === null || document === undefined) return undefined;
  const header = anyDocumentSchema.safeParse(document);
  if (!header.success) throw new ComponentFileError(file, 'a document is not a mapping');
  // daprd reads Configuration, Subscription, Resiliency… from the same folder; they are not ours.
  if (header.data.kind !== 'Component') return undefined;

  const parsed = componentDocumentSchema.safeParse(document);
  if (!parsed.success) throw new ComponentFileError(file, z.prettifyError(parsed.error));
  const { metadata, spec } = parsed.data;
  return {
    name: metadata.name,
    type: spec.type,
    version: spec.version,
    metadata: Object.fromEntries((spec.metadata ?? []).map((item) => [item.name, item.value == null ? '' : String(item.value)])),
  };
}

function assertUniqueNames(components: readonly ComponentSpec[]): void {
  const seen = new Set<string>();
  for (const { name } of components) {
    if (seen.has(name)) throw new Error(`duplicate state store component name: ${name}`);
    seen.add(name);
  }
}
