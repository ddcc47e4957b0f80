// The runner's own runtime clients: embedded in the bundle, written once (content-addressed) to the cache dir.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeNotAvailableError } from '../../errors.js';

// Set by the esbuild defines (scripts/build/runner.mjs); absent when running from sources (tests via tsx).
declare const __PYTHON_CLIENT__: string | undefined;
declare const __NODE_CLIENT__: string | undefined;

export const ClientKind = { python: 'python', node: 'node' } as const;
export type ClientKind = (typeof ClientKind)[keyof typeof ClientKind];

const files = { python: 'python_client.py', node: 'node-client.mjs' } as const;

function embedded(kind: ClientKind): string | undefined {
  if (kind === 'python') return typeof __PYTHON_CLIENT__ === 'string' ? __PYTHON_CLIENT__ : undefined;
  return typeof __NODE_CLIENT__ === 'string' ? __NODE_CLIENT__ : undefined;
}

/**
 * A path to the client's source file. From sources that is the file next to this module; from the bundle it
 * is written to `<dir>/clients/<hash>-<name>` once (writes go through a rename, so concurrent runs are safe).
 */
export async function clientPath(kind: ClientKind, dirs: readonly string[]): Promise<string> {
  const text = embedded(kind);
  if (text === undefined) return fileURLToPath(new URL(`./${files[kind]}`, import.meta.url));
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  let lastError: unknown;
  for (const dir of dirs) {
    const target = join(dir, 'clients', `${hash}-${files[kind]}`);
    if (existsSync(target)) return target;
    try {
      await mkdir(join(dir, 'clients'), { recursive: true });
      const tmp = `${target}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, target);
      return target;
    } catch (err) {
      lastError = err;
    }
  }
  throw new RuntimeNotAvailableError(
    `cannot write the ${kind} runtime client: ${(lastError as Error)?.message}`,
    {
      cause: lastError,
    },
  );
}
