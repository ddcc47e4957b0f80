// --compat cirrus-v0 through any runtime client: a shim of the runner's own is the runtime's handler and calls
// the real handler with the event alone. The official clients always pass a context, so they cannot be told.

import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PreparedFunction } from '../../function.js';
import { RuntimeFamily, runtimeFamily } from '../families.js';

/** --compat's one mode: behave as cirrusgeo/run-lambda 0.2. */
export const Compat = { cirrusV0: 'cirrus-v0' } as const;
export type Compat = (typeof Compat)[keyof typeof Compat];

// Set by the esbuild defines (scripts/build/runner.mjs); absent when running from sources (tests via tsx).
declare const __COMPAT_SHIMS__: { python: string; node: string } | undefined;

export const SHIM_FILES = { python: 'run_lambda_compat.py', node: 'run-lambda-compat.mjs' } as const;

/** The shim's file beside this module (when running from sources). */
const sourceFile = (kind: keyof typeof SHIM_FILES) =>
  fileURLToPath(new URL(`./${SHIM_FILES[kind]}`, import.meta.url));

function shimSource(kind: keyof typeof SHIM_FILES): string {
  if (typeof __COMPAT_SHIMS__ === 'object') return __COMPAT_SHIMS__[kind];
  return readFileSync(sourceFile(kind), 'utf8');
}

/** What the runtime is given instead of the function's handler; `undefined` for a custom runtime. */
export interface CompatShim {
  /** `_HANDLER` for the runtime's client */
  handler: string;
  /** a folder the runtime must find modules in (Python: first on PYTHONPATH) */
  pythonPath?: string;
}

/** Writes the shim for `fn`'s runtime family into `dir` (the run's own temp folder). */
export async function prepareCompatShim(fn: PreparedFunction, dir: string): Promise<CompatShim | undefined> {
  const family = runtimeFamily(fn.runtime);
  if (family !== RuntimeFamily.python && family !== RuntimeFamily.node) return undefined;
  const folder = join(dir, 'compat');
  await mkdir(folder, { recursive: true });
  if (family === RuntimeFamily.python) {
    await writeFile(join(folder, SHIM_FILES.python), shimSource('python'));
    return { handler: 'run_lambda_compat.handler', pythonPath: folder };
  }
  // The official Node.js client takes an absolute module path (and refuses `..`); so does the runner's own. From
  // sources the shim is loaded where it is, beside the loader it imports; the bundle's is one file to write.
  if (typeof __COMPAT_SHIMS__ !== 'object')
    return { handler: `${sourceFile('node').replace(/\.mjs$/, '')}.handler` };
  await writeFile(join(folder, SHIM_FILES.node), shimSource('node'));
  return { handler: `${join(folder, 'run-lambda-compat')}.handler` };
}
