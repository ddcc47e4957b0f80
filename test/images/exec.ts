// Runs a command for the image tooling; rejects with the command's name and the tail of its output when it fails.
import { spawn } from 'node:child_process';

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
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.echo) process.stderr.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (opts.echo) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve({ stdout, stderr });
      const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-25).join('\n');
      reject(new Error(`${opts.what ?? `${cmd} ${args.join(' ')}`} exited with code ${code}:\n${tail}`));
    });
  });
}
