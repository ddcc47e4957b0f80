// Loads the runner's AWS half on first use. The bundle carries it gzipped, so a run with local code and
// payloads never compiles the AWS SDK: V8 compiles a whole ES module before running it (~150 ms for the SDK).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as errors from './errors.js';

// Set by scripts/build/runner.mjs; absent when running from sources (tests via tsx).
declare const __AWS_MODULE_GZ__: string | undefined;

export type AwsModule = typeof import('./aws/entry.js');

/** Where the separately bundled AWS half finds this bundle's error classes, so `instanceof` holds across both. */
export const ERRORS_KEY = Symbol.for('run-lambda.errors');

let loading: Promise<AwsModule> | undefined;

/** The AWS module, loaded once per process; `workDir` is the run's private temp folder. */
export function loadAws(workDir: string): Promise<AwsModule> {
  loading ??= load(workDir);
  return loading;
}

async function load(workDir: string): Promise<AwsModule> {
  if (typeof __AWS_MODULE_GZ__ !== 'string') return import('./aws/entry.js');
  (globalThis as Record<symbol, unknown>)[ERRORS_KEY] = errors;
  const file = join(workDir, 'aws.mjs');
  await writeFile(file, gunzipSync(Buffer.from(__AWS_MODULE_GZ__, 'base64')), { mode: 0o600 });
  return (await import(pathToFileURL(file).href)) as AwsModule;
}
