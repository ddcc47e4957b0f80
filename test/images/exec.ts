// Runs a command for the image tooling; rejects with the command's name and the tail of its output when it fails.
// The command is tethered (test/support/tether.mjs): a build whose test run is interrupted ends with it.
import { collectOutput } from '../support/process.js';
import { spawnTethered } from '../support/tether.mjs';

export interface RunOptions {
  /** how the failure names the step (default: the command line) */
  what?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  echo?: boolean;
  /** called with each complete line the command writes to stderr (progress) */
  onStderrLine?: (line: string) => void;
}

export function run(
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnTethered(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // stdio is piped above, so both streams are there
    const out = collectOutput({ stdout: child.stdout!, stderr: child.stderr! }, opts.echo);
    if (opts.onStderrLine) {
      let partial = '';
      child.stderr!.on('data', (d: Buffer) => {
        const lines = (partial + d.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) opts.onStderrLine?.(line);
      });
    }
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve({ ...out });
      const tail = `${out.stdout}\n${out.stderr}`.trim().split('\n').slice(-25).join('\n');
      reject(new Error(`${opts.what ?? `${cmd} ${args.join(' ')}`} exited with code ${code}:\n${tail}`));
    });
  });
}
