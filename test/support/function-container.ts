// A container image function's "container" as a process: a stand-in of the Lambda base images' entrypoint (with
// AWS_LAMBDA_RUNTIME_API set it starts the runtime client, the handler its one argument) running the runner's own
// Python client over a folder of code, pointed at an address where `run --external-runtime` serves the Runtime API.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENT = fileURLToPath(new URL('../../runner/runtime/clients/python_client.py', import.meta.url));
const ENTRYPOINT = join(mkdtempSync(join(tmpdir(), 'fn-container-')), 'lambda-entrypoint.sh');
writeFileSync(ENTRYPOINT, `#!/bin/sh\nexport _HANDLER="$1"\nexec python3 -u '${CLIENT}'\n`);
chmodSync(ENTRYPOINT, 0o755);

/** What the runner prints once it listens for the function's runtime on `address`. */
export const listening = (address: string) => `listening for the function's runtime on ${address}`;

/** Starts the function's container: `taskRoot` as /var/task, `handler` as its CMD, its runtime aimed at `address`. */
export function startFunctionContainer(
  address: string,
  taskRoot: string,
  handler: string,
  env: Record<string, string> = {},
): ChildProcess {
  const child = spawn(ENTRYPOINT, [handler], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AWS_LAMBDA_RUNTIME_API: address,
      LAMBDA_TASK_ROOT: taskRoot,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  return child;
}
