// What /proc says about a process: its state and start time, and whether it still runs (a zombie has ended).
// Where there is no /proc (not Linux), a process is judged by `kill(pid, 0)` alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcStat {
  /** R, S, D, Z (zombie: exited, not yet reaped), … */
  state: string;
  ppid: number;
  /** clock ticks after boot (field 22): with the pid, what tells this process from a later one given its pid */
  started: string;
}

/** The state and start time of `pid`, or undefined where /proc has no such process (or there is no /proc). */
export function procStat(pid: number, procDir = '/proc'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(join(procDir, String(pid), 'stat'), 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, started] = [fields[0], fields[1], fields[19]];
  return state && ppid && started ? { state, ppid: Number(ppid), started } : undefined;
}

/** True while `pid` runs: it exists and is not a zombie. */
export function running(pid: number, procDir = '/proc'): boolean {
  const stat = procStat(pid, procDir);
  if (stat) return stat.state !== 'Z' && stat.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: a process of another user, which runs
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits up to `ms` for every pid of `pids` to stop running; returns those still running. */
export async function stillRunningAfter(pids: number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids.filter((p) => running(p));
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter((p) => running(p));
  }
  return left;
}
