// Bundles the function files for the build (`npm run build`) and the benchmark (`npm run bench`):
// `node dev/bundle-functions.mjs <outdir> [extra entry.ts ...]`.
//
// Node 20 spends more time finding, reading and linking a module than running it, and the app's
// function files import some 400 of them (zod alone is ~240). esbuild puts each function file in
// <outdir>/ and the code they share in <outdir>/chunks/ (outside the `dist/functions/*.js` glob
// that package.json's "main" gives the host), so the host loads a handful of files instead.
// Dynamic imports stay dynamic: the Dapr adapter is still loaded on the first request.
//
// Left to node_modules, loaded as before:
// - @azure/functions: the worker hands it @azure/functions-core at run time;
// - @dapr/dapr: large, CommonJS, loaded on first use;
// - @opentelemetry/*: the API keeps process-wide state shared with the Azure Monitor distro;
// - pino: it starts its transports from files by path.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
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
  external: ['@azure/*', '@dapr/dapr', '@opentelemetry/*', 'pino'],
  plugins: [englishOnlyZod],
  logLevel: 'warning',
});
