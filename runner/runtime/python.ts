// Finds the python3 to run our client with; a pyenv shim (a bash script costing 0.1–1 s per start) is resolved to its interpreter.
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Env } from '../../lib/env.js';
import { envString } from '../../lib/env.js';

function head(path: string, bytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** pyenv's own order: PYENV_VERSION, then the nearest .python-version above `dir`, then the global version file. */
function pyenvVersion(root: string, dir: string, env: Env): string | undefined {
  const fromEnv = envString(env, 'PYENV_VERSION');
  if (fromEnv) return fromEnv.split(':')[0];
  for (let d = dir; ; d = dirname(d)) {
    const f = join(d, '.python-version');
    if (existsSync(f)) return readFileSync(f, 'utf8').split(/\s+/)[0];
    if (dirname(d) === d) break;
  }
  const global = join(root, 'version');
  return existsSync(global) ? readFileSync(global, 'utf8').split(/\s+/)[0] : undefined;
}

/** The interpreter behind `python` (a path found on PATH), or `python` itself when it is not a pyenv shim. */
export function resolvePython(python: string, dir: string, env: Env): string {
  try {
    const text = head(python, 512);
    const m = /export PYENV_ROOT="([^"]+)"/.exec(text);
    if (!text.startsWith('#!') || !m?.[1]) return python;
    const version = pyenvVersion(m[1], dir, env);
    if (!version || version === 'system') return python;
    const real = join(m[1], 'versions', version, 'bin', 'python3');
    return existsSync(real) ? real : python;
  } catch {
    return python;
  }
}
