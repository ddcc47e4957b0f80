// Runs a child process to completion without blocking the event loop (tests that serve its AWS calls in process need that).
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The last line of a process's stderr that is not blank ('' when there is none): where the runner says why it stopped. */
export function lastLineOf(stderr: string): string {
  return (
    stderr
      .split('\n')
      .filter((l) => l.trim() !== '')
      .at(-1) ?? ''
  );
}

/** A child's stdout and stderr as text so far, filled in as they arrive; `echo` copies both to this process's stderr. */
export function collectOutput(
  child: { stdout: Readable; stderr: Readable },
  echo = false,
): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].on('data', (d: Buffer) => {
      out[stream] += d.toString();
      if (echo) process.stderr.write(d);
    });
  }
  return out;
}

export function runProcess(
  file: string,
  args: string[],
  opts: { env: Record<string, string>; input?: string; cwd?: string },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = collectOutput(child);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
  });
}
