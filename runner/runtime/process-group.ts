// A child started as the leader of a process group of its own (the runtime, an extension): its output to a file
// descriptor or through the runner, its exit as a promise, and a signal that reaches the whole group.
import type { ChildProcess, spawn as nodeSpawn } from 'node:child_process';

export type SpawnFn = typeof nodeSpawn;

export interface RuntimeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Where one of a child's streams goes through the runner (cut into lines for the log and telemetry). */
export type StreamTap = { write(chunk: Buffer): void; end(): void };

export interface GroupChild {
  readonly pid: number;
  /** Resolves when the group leader exits. */
  readonly exited: Promise<RuntimeExit>;
  /** Sends a signal to the whole process group; ignores a group that is already gone. */
  signalGroup(signal: NodeJS.Signals): void;
}

export interface SpawnGroupDeps {
  spawn: SpawnFn;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** A file descriptor for both output streams, or what takes each stream's chunks. */
  output: number | ((stream: 'stdout' | 'stderr') => StreamTap);
}

/** Starts the child; resolves once it runs, rejects when it cannot be started at all. */
export function spawnGroup(deps: SpawnGroupDeps): Promise<GroupChild> {
  const out = typeof deps.output === 'number' ? deps.output : 'pipe';
  const child: ChildProcess = deps.spawn(deps.command, deps.args, {
    cwd: deps.cwd,
    env: deps.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  if (typeof deps.output === 'function') {
    for (const name of ['stdout', 'stderr'] as const) {
      const tap = deps.output(name);
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
      resolve({ pid, exited, signalGroup });
    });
  });
}

/** "exited with code N" / "was killed with SIGKILL", worded the same way every time. */
export function describeExit(exit: RuntimeExit): string {
  return exit.signal ? `was killed with ${exit.signal}` : `exited with code ${exit.code}`;
}
