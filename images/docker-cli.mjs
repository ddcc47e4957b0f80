// The docker CLI for the image build and publish steps: run it from the repository root, echo or collect its output.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './matrix.mjs';

const root = fileURLToPath(repoRoot);

/** A step of the build failed; the CLI prints the message and exits 1. */
export class ImageBuildError extends Error {
  name = 'ImageBuildError';
}

/**
 * Runs `docker <args>`; resolves with its exit code and output (never rejects on a non-zero exit).
 * @param {string[]} args
 * @param {{ quiet?: boolean }} [opts] quiet: collect stdout instead of echoing it (stderr is echoed unless quiet)
 * @returns {Promise<{ code: number | null, out: string, err: string }>}
 */
export function docker(args, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { cwd: root, stdio: ['ignore', quiet ? 'pipe' : 'inherit', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
      if (!quiet) process.stderr.write(d);
    });
    child.on('error', (e) => resolve({ code: null, out, err: `${err}${e.message}` }));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** `docker <args>` that must succeed: ImageBuildError naming `what` otherwise. */
export async function must(args, what, opts = {}) {
  const r = await docker(args, opts);
  if (r.code !== 0) {
    const tail = r.err.trim().split('\n').slice(-5).join('\n');
    throw new ImageBuildError(
      `${what} failed (docker exited with code ${r.code})${opts.quiet ? `: ${tail}` : ''}`,
    );
  }
  return r.out;
}
