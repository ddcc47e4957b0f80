// Loads the runner's AWS half on first use. The bundle carries it gzipped, so a run with local code and
// payloads never compiles the AWS SDK: V8 compiles a whole ES module before running it (~150 ms for the SDK).
// Beside the bundle (the build's dist/, the images) it is also a plain file; the images compile that file, and the
// bundle, when they are built, into a V8 compile cache at a stable path (images/bake-cache.mjs), so a job pays for
// neither. The images' entry (images/start.mjs) turns the cache on before it imports the bundle.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as errors from './errors.js';

// Set by scripts/build/runner.mjs; absent when running from sources (tests via tsx).
declare const __AWS_MODULE_GZ__: string | undefined;
declare const __AWS_MODULE_SHA__: string | undefined;

export type AwsModule = typeof import('./aws/index.js');

/** Where the separately bundled AWS half finds this bundle's error classes, so `instanceof` holds across both. */
export const ERRORS_KEY = Symbol.for('run-lambda.errors');

/** The plain copy beside the bundle, and the compile cache the images bake for it (images/bake-cache.mjs). */
export const AWS_FILE = 'run-lambda-aws.mjs';
export const COMPILE_CACHE_DIR = 'compile-cache';

let loading: Promise<AwsModule> | undefined;

/** The AWS module, loaded once per process; `workDir` is the run's private temp folder. */
export function loadAws(workDir: string): Promise<AwsModule> {
  loading ??= load(workDir);
  return loading;
}

/** The copy beside `bundleDir` when its first line names this bundle's AWS half (a stale copy is ignored). */
export function besideCopy(bundleDir: string, sha: string): string | undefined {
  const file = join(bundleDir, AWS_FILE);
  const header = Buffer.from(`// run-lambda aws half ${sha}\n`);
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(header.length);
      return readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.equals(header) ? file : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

async function load(workDir: string): Promise<AwsModule> {
  if (typeof __AWS_MODULE_GZ__ !== 'string') return import('./aws/index.js');
  (globalThis as Record<symbol, unknown>)[ERRORS_KEY] = errors;
  const bundleDir = dirname(fileURLToPath(import.meta.url));
  const beside =
    typeof __AWS_MODULE_SHA__ === 'string' ? besideCopy(bundleDir, __AWS_MODULE_SHA__) : undefined;
  if (beside) {
    // Only this process, only when the image baked one: the functions' runtimes never inherit it. Already on when
    // the images' entry started the runner; this serves `node run-lambda.mjs` in an image.
    const cache = join(bundleDir, COMPILE_CACHE_DIR);
    const compileCache = nodeModule as { enableCompileCache?: (dir: string) => unknown }; // Node >= 22.1
    if (existsSync(cache)) compileCache.enableCompileCache?.(cache);
    return (await import(pathToFileURL(beside).href)) as AwsModule;
  }
  const file = join(workDir, 'aws.mjs');
  await writeFile(file, gunzipSync(Buffer.from(__AWS_MODULE_GZ__, 'base64')), { mode: 0o600 });
  return (await import(pathToFileURL(file).href)) as AwsModule;
}
