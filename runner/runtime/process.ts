// The runtime process: started as the leader of its own process group, so the runner can end all of it, with a
// keeper that ends it should the runner die first, and a mark that finds what left the group.
import type { ChildProcess } from 'node:child_process';
import { KEEPER_SCRIPT, killMarked } from './leftovers.js';
import { type GroupChild, type SpawnFn, type StreamTap, spawnGroup } from './process-group.js';

export interface RuntimeProcess extends GroupChild {
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
  pipe?: (stream: 'stdout' | 'stderr') => StreamTap;
}

export async function startRuntime(deps: StartRuntimeDeps): Promise<RuntimeProcess> {
  const { pid, exited, signalGroup } = await spawnGroup({ ...deps, output: deps.pipe ?? deps.logFd ?? 2 });
  // Started after the runtime, off its critical path.
  const keeper = startKeeper(deps.spawn, pid, deps.mark, deps.env.PATH);
  return {
    pid,
    exited,
    signalGroup,
    end() {
      signalGroup('SIGKILL');
      const marked = deps.mark ? killMarked(deps.mark[0], deps.mark[1], undefined, pid) : [];
      keeper?.kill('SIGKILL');
      return marked;
    },
  };
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
