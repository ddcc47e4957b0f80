// Starts the external extensions: every executable file in `<opt-dir>/extensions/` (Lambda's /opt/extensions, where a
// layer puts them), each in a process group of its own, its stdout and stderr piped through the runner (to the job's
// log as the function's output is, and to telemetry subscribers as `extension` events).
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type RuntimeExit, type SpawnFn, spawnGroup } from '../runtime/process-group.js';

/** One started extension process. */
export interface LaunchedExtension {
  /** Its file name: what it must register with (`Lambda-Extension-Name`). */
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<RuntimeExit>;
  /** Signals its whole process group; ignores a group that is gone. */
  signal(signal: NodeJS.Signals): void;
}

/** The executables in `<optDir>/extensions`, by name; none when there is no such folder. */
export async function findExtensions(optDir: string): Promise<{ name: string; path: string }[]> {
  const dir = join(optDir, 'extensions');
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return [];
  }
  const found: { name: string; path: string }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) continue;
    if (
      await access(path, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      found.push({ name, path });
  }
  return found;
}

export interface LaunchDeps {
  spawn: SpawnFn;
  env: Record<string, string>;
  cwd: string;
  /** Where each of the extension's streams goes (runner/telemetry/log-tap.ts). */
  tap(name: string, stream: 'stdout' | 'stderr'): { write(chunk: Buffer): void; end(): void };
}

/** Starts one extension; rejects when it cannot be started at all (Lambda's Extension.LaunchError). */
export async function launchExtension(
  ext: { name: string; path: string },
  deps: LaunchDeps,
): Promise<LaunchedExtension> {
  const child = await spawnGroup({
    spawn: deps.spawn,
    command: ext.path,
    args: [],
    cwd: deps.cwd,
    env: deps.env,
    output: (stream) => deps.tap(ext.name, stream),
  });
  return { name: ext.name, pid: child.pid, exited: child.exited, signal: child.signalGroup };
}
