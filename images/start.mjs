// The images' entry to the runner (images/run starts it): turns on the V8 compile cache the image baked when it was
// built (images/bake-cache.mjs) for this process alone, then imports the bundle, so a job does not compile the
// runner. Node.js 22.1 and later: module.enableCompileCache sets no environment variable, so neither the functions'
// runtimes nor their extensions inherit the cache (NODE_COMPILE_CACHE would hand it to every Node.js they start).
// A folder that is gone (removed to measure without it) is not made again; an older Node.js, or
// NODE_DISABLE_COMPILE_CACHE=1, just runs the bundle. `node run-lambda.mjs` runs the same runner without the cache.
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

const cache = fileURLToPath(new URL('./compile-cache/', import.meta.url));
if (existsSync(cache)) nodeModule.enableCompileCache?.(cache);
await import('./run-lambda.mjs');
