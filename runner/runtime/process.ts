// The runtime process: started as the leader of its own process group, so the runner can end all of it, with a
// keeper that ends it should the runner die first, and a mark that finds what left the group.
import type { ChildProcess, spawn as nodeSpawn } from 'node:child_process';
import { KEEPER_SCRIPT, killMarked } from './leftovers.js';

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
  /**
   * Ends everything of the run: the group, then every process carrying the run's mark (a `setsid` daemon
   * that left the group, and would hold the caller's pipe open), then the keeper. Returns the marked pids.
   */
  end(): number[];
}

export interface StartRuntimeDeps {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  spawn: SpawnFn;
  /** fd that receives the function's stdout and stderr (the runner's stderr: results on stdout stay clean). */
  logFd?: number;
  /** `[name, value]` of the variable in `env` that marks the run's processes (runtime/env.ts RUN_MARK). */
  mark?: readonly [string, string];
  /**
   * Takes the runtime's stdout and stderr through the runner instead of `logFd` (to cut them into lines for telemetry):
   * each stream's chunks go to the function it returns.
   */
  pipe?: (stream: 'stdout' | 'stderr') => { write(chunk: Buffer): void; end(): void };
}

export function startRuntime(deps: StartRuntimeDeps): Promise<RuntimeProcess> {
  const logFd = deps.logFd ?? 2;
  const out = deps.pipe ? 'pipe' : logFd;
  const child: ChildProcess = deps.spawn(deps.command, deps.args, {
    cwd: deps.cwd,
    env: deps.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  if (deps.pipe) {
    for (const name of ['stdout', 'stderr'] as const) {
      const tap = deps.pipe(name);
      child[name]?.on('data', (c: Buffer) => tap.write(c));
      child[name]?.on('end', () => tap.end());
    }
  }
  const exited = new Promise<RuntimeExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      const pid = child.pid as number;
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-pid, signal);
        } catch {
          // ESRCH: the group is already gone
        }
      };
      // Started after the runtime, off its critical path.
      const keeper = startKeeper(deps.spawn, pid, deps.mark, deps.env.PATH);
      resolve({
        pid,
        exited,
        signalGroup,
        end() {
          signalGroup('SIGKILL');
          const marked = deps.mark ? killMarked(deps.mark[0], deps.mark[1], undefined, pid) : [];
          keeper?.kill('SIGKILL');
          return marked;
        },
      });
    });
  });
}

/**
 * A `sh` that holds the read end of a pipe from the runner: it reads EOF only once the runner is gone (a
 * SIGKILL cannot be caught, so the runner cannot clean up itself) and then kills the group and the marked
 * processes. In a session of its own, so a Ctrl-C to the runner's terminal does not end it first. Without
 * `sh` (or where it cannot start) a SIGKILLed runner orphans its runtime, as it did before.
 */
export function startKeeper(
  spawn: SpawnFn,
  pgid: number,
  mark: readonly [string, string] | undefined,
  path: string | undefined,
): ChildProcess | undefined {
  try {
    const keeper = spawn(
      '/bin/sh',
      ['-c', KEEPER_SCRIPT, 'run-lambda-keeper', String(pgid), mark ? `${mark[0]}=${mark[1]}` : '-'],
      {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { PATH: path ?? '/usr/bin:/bin' },
      },
    );
    keeper.on('error', () => {});
    keeper.stdin?.on('error', () => {});
    keeper.unref();
    (keeper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return keeper;
  } catch {
    return undefined;
  }
}

/** "exited with code N" / "was killed with SIGKILL", worded the same way every time. */
export function describeExit(exit: RuntimeExit): string {
  return exit.signal ? `was killed with ${exit.signal}` : `exited with code ${exit.code}`;
}
