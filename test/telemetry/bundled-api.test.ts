import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/stack.js';

const run = promisify(execFile);
/** Inside the project, so the bundle's externals resolve from node_modules as they do in dist/. */
const outdir = join(projectRoot, `.bundle-test-${process.pid}`);
const FIXTURE = 'test/telemetry/fixtures/bundled-tracing.ts';

beforeAll(async () => {
  await run(process.execPath, ['dev/bundle-functions.mjs', outdir, FIXTURE], { cwd: projectRoot });
}, 60_000);

afterAll(async () => {
  await rm(outdir, { recursive: true, force: true });
});

/**
 * What the Azure Monitor distro does, in a fresh process: the app's bundled modules load first,
 * then a tracer provider is registered through node_modules' copy of the API (the distro's), and
 * a span is active in that copy's context when the bundled code starts its own.
 */
const CHILD = `
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
const bundled = await import(process.argv[1]);
const exporter = new InMemorySpanExporter();
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();
const outer = trace.getTracer('distro-side').startSpan('outer');
context.with(trace.setSpan(context.active(), outer), () => bundled.tracer().startActiveSpan('inner', (span) => span.end()));
outer.end();
process.stdout.write(JSON.stringify(exporter.getFinishedSpans().map((s) => ({
  name: s.name, traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, parentSpanId: s.parentSpanContext?.spanId,
}))));
`;

async function outputFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => join(e.parentPath, e.name));
}

describe('the OpenTelemetry API bundled into the build (dev/bundle-functions.mjs)', () => {
  it('is the build’s own copy: no output file imports it from node_modules', async () => {
    const files = await outputFiles(outdir);
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) expect(await readFile(file, 'utf8')).not.toMatch(/["']@opentelemetry\/api["']/);
  });

  it('records the bundled code’s spans with a tracer provider registered later through node_modules’ copy, under that copy’s active span', async () => {
    const entry = join(outdir, 'test/telemetry/fixtures/bundled-tracing.js');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD, entry], { cwd: projectRoot });
    const spans = JSON.parse(stdout) as Array<{ name: string; traceId: string; spanId: string; parentSpanId?: string }>;
    const outer = spans.find((span) => span.name === 'outer');
    const inner = spans.find((span) => span.name === 'inner');
    expect(outer).toBeDefined();
    expect(inner).toMatchObject({ traceId: outer?.traceId, parentSpanId: outer?.spanId });
  });
});
