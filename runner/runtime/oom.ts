// Whether the kernel's out-of-memory killer ended the runtime: a runtime killed with SIGKILL while its cgroup's
// `oom_kill` count rose (cgroup v2's memory.events; v1's memory.oom_control holds the same line) ran out of memory,
// and its invocation fails as Lambda's Runtime.OutOfMemory rather than Runtime.ExitError.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROC_ROOT } from './procfs.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** The count of `oom_kill N` in a memory.events (or memory.oom_control) text; undefined when it has none. */
export function oomKillCount(text: string): number | undefined {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Where the runner's own cgroup (which its runtime shares) counts OOM kills, from /proc/self/cgroup: under v2 (`0::/p`)
 * `<root>/p/memory.events`, under v1 (`N:memory:/p`) `<root>/memory/p/memory.oom_control`; in a container the
 * cgroup's own files are at the top of the mount, so that is tried too. Undefined when none can be read.
 */
export async function defaultMemoryEvents(
  procRoot = PROC_ROOT,
  cgroupRoot = CGROUP_ROOT,
): Promise<string | undefined> {
  const text = await readFile(join(procRoot, 'self', 'cgroup'), 'utf8').catch(() => '');
  const candidates: string[] = [];
  for (const line of text.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    if (controllers === '')
      candidates.push(join(cgroupRoot, path, 'memory.events'), join(cgroupRoot, 'memory.events'));
    else if (controllers?.split(',').includes('memory'))
      candidates.push(
        join(cgroupRoot, 'memory', path, 'memory.oom_control'),
        join(cgroupRoot, 'memory', 'memory.oom_control'),
      );
  }
  for (const file of candidates) {
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return undefined;
}

/** Reads the OOM kill count now; undefined when it cannot be had (no such file, no such line). */
export type OomCount = () => Promise<number | undefined>;

/** The count of `file` (given by --memory-events), else of the runner's own cgroup (found once, on first use). */
export function oomCounter(file: string | undefined): OomCount {
  let where: Promise<string | undefined> | undefined;
  return async () => {
    where ??= file !== undefined ? Promise.resolve(file) : defaultMemoryEvents();
    const path = await where;
    if (path === undefined) return undefined;
    return oomKillCount(await readFile(path, 'utf8').catch(() => ''));
  };
}
