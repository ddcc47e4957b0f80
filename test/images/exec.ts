// Runs a command for the image tooling; rejects with the command's name and the tail of its output when it fails.
import { spawn } from 'node:child_process';
import { collectOutput } from '../support/process.js';

export interface RunOptions {
  /** how the failure names the step (default: the command line) */
  what?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  echo?: boolean;
}

export function run(
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collectOutput(child, opts.echo);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve({ ...out });
      const tail = `${out.stdout}\n${out.stderr}`.trim().split('\n').slice(-25).join('\n');
      reject(new Error(`${opts.what ?? `${cmd} ${args.join(' ')}`} exited with code ${code}:\n${tail}`));
    });
  });
}
