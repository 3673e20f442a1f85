import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { glob } from 'tinyglobby';
import { installCoreShim } from '../dev/host/core-shim.js';

/**
 * Prints how long importing every function file takes (ms), the way the host loads them: the core
 * shim first (dev/host/host.ts does the same), then each file in turn. Run in a fresh process.
 *
 * `node dist-bench/bench/load-functions.js <folder of compiled functions>`
 */
const folder = resolve(process.argv[2] ?? 'dist-bench/functions');
const files = (await glob('*.js', { cwd: folder, absolute: true })).sort();
if (files.length === 0) throw new Error(`no function files in ${folder}`);
installCoreShim();
const started = performance.now();
for (const file of files) await import(pathToFileURL(file).href);
const elapsed = performance.now() - started;
process.stdout.write(`${JSON.stringify({ files: files.length, ms: elapsed })}\n`);
