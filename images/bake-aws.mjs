// Image build step: compiles the runner's AWS half (run-lambda-aws.mjs, beside this file) into a V8 compile cache
// at ./compile-cache, which the runner enables before it imports that file (runner/aws-module.ts). Node keys the
// cache by the file's path and contents and checks it against its own version, so it must run with the image's
// node, on the file at the path the runner imports. Fails the build when the cache is not written.
import { existsSync, readdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const cache = join(dir, 'compile-cache');
const file = join(dir, 'run-lambda-aws.mjs');
if (!existsSync(file)) throw new Error(`${file} is missing (npm run build writes dist/run-lambda-aws.mjs)`);
const enabled = nodeModule.enableCompileCache(cache);
if (enabled.status !== nodeModule.constants.compileCacheStatus.ENABLED) {
  throw new Error(`cannot enable the compile cache in ${cache}: ${enabled.message ?? enabled.status}`);
}
// The AWS half takes the bundle's error classes from this global; stand-ins do for compiling (V8 caches the code
// when it compiles the module, before it runs).
globalThis[Symbol.for('run-lambda.errors')] = new Proxy({}, { get: () => class extends Error {} });
await import(pathToFileURL(file).href);
nodeModule.flushCompileCache();
const entries = readdirSync(cache, { recursive: true });
if (entries.length === 0) throw new Error(`the compile cache in ${cache} is empty after importing ${file}`);
console.log(`compile cache for ${file}: ${entries.length} entries in ${cache}`);
