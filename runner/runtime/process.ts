// The runtime process: started as the leader of its own process group, so the runner can end all of it.
import type { ChildProcess, spawn as nodeSpawn } from 'node:child_process';

export type SpawnFn = typeof nodeSpawn;

export interface RuntimeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RuntimeProcess {
  readonly pid: number;
  /** Resolves when the runtime process (the group leader) exits. */
  readonly exited: Promise<RuntimeExit>;
  /** Sends a signal to the whole process group; ignores a group that is already gone. */
  signalGroup(signal: NodeJS.Signals): void;
}

export interface StartRuntimeInput {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  spawn: SpawnFn;
  /** fd that receives the function's stdout and stderr (the runner's stderr: results on stdout stay clean). */
  logFd?: number;
}

export function startRuntime(input: StartRuntimeInput): Promise<RuntimeProcess> {
  const logFd = input.logFd ?? 2;
  const child: ChildProcess = input.spawn(input.command, input.args, {
    cwd: input.cwd,
    env: input.env,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  const exited = new Promise<RuntimeExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      const pid = child.pid as number;
      resolve({
        pid,
        exited,
        signalGroup(signal) {
          try {
            process.kill(-pid, signal);
          } catch {
            // ESRCH: the group is already gone
          }
        },
      });
    });
  });
}

/** "exited with code N" / "was killed with SIGKILL", worded the same way every time. */
export function describeExit(exit: RuntimeExit): string {
  return exit.signal ? `was killed with ${exit.signal}` : `exited with code ${exit.code}`;
}
