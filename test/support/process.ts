// Runs a child process to completion without blocking the event loop (tests that serve its AWS calls in process need that).
import { spawn } from 'node:child_process';

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

export function runProcess(
  file: string,
  args: string[],
  opts: { env: Record<string, string>; input?: string; cwd?: string },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
  });
}
