// Every process of a run carries the run's mark in its environment; what the process group kill missed
// (a `setsid` daemon of the handler) is found by that mark in /proc and ended with the run.
import { readdirSync, readFileSync } from 'node:fs';

/** Passes over /proc: a process that forks while we look is caught by the next one. */
const MAX_PASSES = 5;

/**
 * SIGKILLs every process (other than this one) whose environment holds `name=value`; returns their pids.
 * Linux only (no /proc elsewhere: nothing is done). Processes of other users that we may not read are skipped.
 * A process can escape by clearing its own environment (exec with a new one); the job's end catches those.
 * Processes of process group `killedGroup`, SIGKILLed as a group just before, are left to that signal: one
 * still dying would otherwise be counted as outside it and cost a whole second pass over /proc.
 */
export function killMarked(name: string, value: string, procDir = '/proc', killedGroup?: number): number[] {
  const entry = `${name}=${value}`;
  const killed: number[] = [];
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let found = 0;
    let pids: string[];
    try {
      pids = readdirSync(procDir).filter((d) => /^\d+$/.test(d));
    } catch {
      return killed;
    }
    for (const pid of pids) {
      const n = Number(pid);
      if (n === process.pid || killed.includes(n)) continue;
      let environ: Buffer;
      try {
        environ = readFileSync(`${procDir}/${pid}/environ`);
      } catch {
        continue;
      }
      if (!holds(environ, entry) || (killedGroup !== undefined && groupOf(procDir, pid) === killedGroup))
        continue;
      try {
        process.kill(n, 'SIGKILL');
        killed.push(n);
        found += 1;
      } catch {
        // gone meanwhile
      }
    }
    if (found === 0) break;
  }
  return killed;
}

/** The process group of `pid` (the fifth field of /proc/<pid>/stat, after the command in parentheses). */
function groupOf(procDir: string, pid: string): number | undefined {
  try {
    const stat = readFileSync(`${procDir}/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/** True when the NUL-separated `environ` holds the entry `entry` exactly. */
function holds(environ: Buffer, entry: string): boolean {
  // latin1 maps every byte to one character, so no byte sequence can fail to decode or match by accident.
  return environ.toString('latin1').split('\0').includes(entry);
}

/**
 * A shell script for a keeper process: it waits for EOF on its stdin (a pipe whose other end only the
 * runner holds, so EOF means the runner is gone, even by SIGKILL) and then ends the runtime's process
 * group and every process carrying the run's mark. `$1` is the group id, `$2` the `NAME=value` mark.
 */
export const KEEPER_SCRIPT = [
  'read _ignored',
  // No `--`: dash (Debian's /bin/sh) reads `--` as a pid and ends nothing; `kill -KILL -PGID` works in every POSIX sh.
  'kill -KILL "-$1" 2>/dev/null',
  'for e in /proc/[0-9]*/environ; do',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not a template
  '  if grep -qzx -e "$2" "$e" 2>/dev/null; then p=${e#/proc/}; kill -KILL "${p%/environ}" 2>/dev/null; fi',
  'done',
].join('\n');
