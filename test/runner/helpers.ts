// Runs the BUILT runner (dist/run-lambda.mjs) the way users and the images do, and collects what it printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const runner = join(root, 'dist', 'run-lambda.mjs');
/**
 * The Node.js that runs the runner: RUN_LAMBDA_TEST_NODE when set (npm test runs these files a second time with the
 * Node.js binary the images' runner runs on), else the one running the tests.
 */
export const runnerNode = process.env.RUN_LAMBDA_TEST_NODE || process.execPath;
/** One cache per test process, so tests never touch the user's ~/.cache; gone with the process. */
const cacheHome = mkdtempSync(join(tmpdir(), 'run-lambda-test-cache-'));
process.on('exit', () => rmSync(cacheHome, { recursive: true, force: true }));

if (!existsSync(runner)) {
  // `npm test` builds first; this covers `node scripts/test.mjs runner` on a fresh clone.
  spawnSync(process.execPath, ['scripts/build.mjs', 'runner'], { cwd: root, stdio: 'inherit' });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last non-empty line on stderr. */
  last: string;
}

export interface CliOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  /** Called with each stderr chunk (e.g. to send a signal once the handler has started). */
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = spawn(runnerNode, [runner, ...args], {
    cwd: opts.cwd ?? root,
    env: { ...process.env, XDG_CACHE_HOME: cacheHome, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => {
    err.push(c);
    opts.onStderr?.(Buffer.concat(err).toString(), child);
  });
  child.stdin.on('error', () => {});
  child.stdin.end(opts.input);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString();
      const lines = stderr.split('\n').filter((l) => l.trim() !== '');
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr, last: lines.at(-1) ?? '' });
    });
  });
}

/** Cirrus's post-batch regex for the last line: optional `Type:` then the message. */
export function parseLastLine(line: string): { type: string | undefined; message: string } {
  const m = /^(?:([.\w]+):)?\s*(.*)/.exec(line);
  return { type: m?.[1], message: m?.[2] ?? '' };
}

export const fx = (...parts: string[]) => join(fixtures, ...parts);
