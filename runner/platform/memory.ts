// The runtime's memory as the REPORT line's "Max Memory Used" counts it: the peak resident set (VmHWM, in
// /proc/<pid>/status) of the runtime process and every process below it (/proc/<pid>/task/<tid>/children), summed.
// Lambda reports the largest over all the invocations an environment served ("Max Memory Used", REPORT line fields).
// Read at once when the runtime answers (it is ended right after): a few small files for a runtime and its children.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROC_ROOT } from '../runtime/procfs.js';

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** The pids of `pid`'s tree: itself and its descendants (children of every thread), as /proc lists them now. */
function tree(root: string, pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 4096) {
    const p = queue.shift() as number;
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(join(root, String(p), 'task'));
    } catch {
      // gone
    }
    for (const t of tasks) {
      for (const c of read(join(root, String(p), 'task', t, 'children')).split(/\s+/))
        if (/^\d+$/.test(c)) queue.push(Number(c));
    }
  }
  return out;
}

/** The peak resident memory of the process tree under `pid`, in whole MB (rounded up); 0 where /proc cannot tell. */
export function peakMemoryMb(pid: number | undefined, root = PROC_ROOT): number {
  if (pid === undefined) return 0;
  let kb = 0;
  for (const p of tree(root, pid)) {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(read(join(root, String(p), 'status')));
    if (m) kb += Number(m[1]);
  }
  return Math.ceil(kb / 1024);
}
