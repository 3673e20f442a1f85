// Bundles the function files for the build (`npm run build`) and the benchmark (`npm run bench`):
// `node dev/bundle-functions.mjs <outdir> [extra entry.ts ...]`.
//
// Node 20 spends more time finding, reading and linking a module than running it, and the app's
// function files import some 400 of them (zod alone is ~240). esbuild puts each function file in
// <outdir>/ and the code they share in <outdir>/chunks/ (outside the `dist/functions/*.js` glob
// that package.json's "main" gives the host), so the host loads a handful of files instead.
// Dynamic imports stay dynamic: the Dapr adapter is still loaded on the first request.
//
// Bundled: our code, zod, cockatiel, and the OpenTelemetry API with the two pieces the
// propagation-only mode uses (the async-hooks context manager, core's W3C propagator). The API
// keeps its process-wide state (tracer provider, context manager, propagator) on `globalThis`
// under a key per major version, so this copy and the one the Azure Monitor distro loads from
// node_modules share it (shared/telemetry/tracing.ts asks for the tracer at use for that reason),
// provided both are the same version: the API refuses state registered by an older minor version,
// and lets a second copy register only when it is exactly the same version. Both come from the one
// @opentelemetry/api in package-lock.json, since the image installs the locked tree (`npm ci`).
//
// Left to node_modules:
// - @azure/functions: the worker hands it @azure/functions-core at run time;
// - pino: it starts its transports from files by path;
// - @dapr/dapr: large, CommonJS, loaded on first use;
// - the telemetry SDKs (@azure/monitor-opentelemetry, under @azure/*, and sdk-trace-node): heavy,
//   imported only when a connection string or span processors ask for them.
// The first two are CommonJS loaded at start-up: importing CommonJS from ESM makes Node scan its
// source for export names first (~20 ms for @azure/functions' 190 KB), so they are `require`d instead.
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * zod's `z` namespace re-exports every one of its ~45 message locales (`z.locales`), which is half
 * of zod's size in the bundle. The API answers in English only (zod's default), so the locales
 * index is replaced by one that exports English alone.
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-en' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/** CommonJS packages loaded at start-up: required rather than imported (see the top of this file). */
const REQUIRED = new Set(['@azure/functions', 'pino']);

/**
 * Turns `import … from '<package>'` (static or dynamic) into a `require` of it: the import resolves
 * to a one-line CommonJS module that esbuild wraps, whose `require` is the banner's createRequire.
 * The package still loads from node_modules, through the same CommonJS loader as before.
 */
const requiredAsCommonJs = {
  name: 'required-as-commonjs',
  setup(build) {
    build.onResolve({ filter: /^(@azure\/functions|pino)$/ }, (args) => {
      if (!REQUIRED.has(args.path)) return undefined;
      return args.namespace === 'required' ? { path: args.path, external: true } : { path: args.path, namespace: 'required' };
    });
    build.onLoad({ filter: /.*/, namespace: 'required' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * The OpenTelemetry API version the bundle carries must be the one the Azure Monitor distro loads
 * (see the top of this file): the build stops when the lockfile ever gives the distro a copy of
 * its own at another version.
 */
function assertOneOpenTelemetryApi() {
  const apiVersion = (from) => {
    const entry = createRequire(from).resolve('@opentelemetry/api');
    const at = entry.search(/[\\/]@opentelemetry[\\/]api[\\/](?!.*[\\/]@opentelemetry[\\/]api[\\/])/);
    const packageDir = entry.slice(0, at + '/@opentelemetry/api'.length);
    return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  };
  const require = createRequire(import.meta.url);
  const bundled = apiVersion(import.meta.url);
  const distro = apiVersion(require.resolve('@azure/monitor-opentelemetry'));
  if (bundled !== distro) {
    throw new Error(
      `@opentelemetry/api ${bundled} would be bundled, but the Azure Monitor distro loads ${distro}: they must be the same version`,
    );
  }
}

const [outdir, ...extra] = process.argv.slice(2);
if (!outdir) {
  process.stderr.write('usage: node dev/bundle-functions.mjs <outdir> [extra entry.ts ...]\n');
  process.exit(2);
}
// Extra entries (the benchmark's floor functions) share the app's chunks, and land in a subfolder
// named as their source folder, outside the glob of function files.
const entryPoints = [
  ...readdirSync('functions')
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join('functions', file)),
  ...extra.map((file) => ({ in: file, out: file.replace(/\.ts$/, '') })),
];

assertOneOpenTelemetryApi();

await build({
  entryPoints,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  external: ['@azure/*', '@dapr/dapr', '@opentelemetry/sdk-trace-node', 'pino'],
  plugins: [englishOnlyZod, requiredAsCommonJs],
  // Every output file gets a module-scoped `require`, which esbuild's `__require` uses.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
