// The external runtime as a process (its own container, in the task's one PID namespace): found from the connection
// that asked for the event, and watched until it is gone. No connection is open while a handler runs, so this is how
// a runtime that crashes mid-invocation is seen within seconds rather than at the job's timeout.
import {
  type Connection,
  connectionInode,
  PROC_ROOT,
  type ProcStat,
  readStat,
  socketHolders,
} from './procfs.js';

/** How often a watched runtime's /proc entry is read (one small file): its death is seen within this. */
export const RUNTIME_POLL_MS = 500;

/** Parents followed at most from the socket's holder to the top of its tree. */
const MAX_DEPTH = 64;

export interface ProcDeps {
  /** Where /proc is (tests lay out their own) */
  root?: string;
  /** The runner's own pid (its ancestors bound the walk up from the runtime) */
  selfPid?: number;
}

export type FoundProcess = { ok: true; stat: ProcStat; holder: number } | { ok: false; why: string };

/** `pid` and every parent of it in this namespace. */
async function ancestorsOf(root: string, pid: number): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let p = pid; p > 0 && !seen.has(p) && seen.size < MAX_DEPTH; ) {
    seen.add(p);
    p = (await readStat(root, p))?.ppid ?? 0;
  }
  return seen;
}

/**
 * The process to watch for the holder `pid`: its highest ancestor that is not also the runner's (in a task, the
 * function container's first process, whose parent is outside the namespace; on one machine, the child of the process
 * that started both). A custom runtime that asks with a short-lived `curl` is its `bootstrap`, not the `curl`.
 */
async function topOf(root: string, pid: number, runners: Set<number>): Promise<ProcStat | undefined> {
  let stat = await readStat(root, pid);
  for (let depth = 0; stat && depth < MAX_DEPTH; depth++) {
    if (stat.ppid === 0 || runners.has(stat.ppid)) return stat;
    const parent = await readStat(root, stat.ppid);
    if (!parent) return stat;
    stat = parent;
  }
  return stat;
}

/** The process behind the runtime's connection `conn`, or why it cannot be found. */
export async function findPeerProcess(conn: Connection, deps: ProcDeps = {}): Promise<FoundProcess> {
  const root = deps.root ?? PROC_ROOT;
  const self = deps.selfPid ?? process.pid;
  const inode = await connectionInode(root, conn);
  if (!inode)
    return {
      ok: false,
      why: `its connection (port ${conn.clientPort} to ${conn.serverPort}) is not in ${root}/net/tcp`,
    };
  const { pids, unreadable } = await socketHolders(root, inode, new Set([self]));
  const holder = pids[0];
  if (holder === undefined) {
    const denied = unreadable > 0 ? `; ${unreadable} process(es) could not be looked into` : '';
    return { ok: false, why: `no process this runner can see holds its connection${denied}` };
  }
  const runners = await ancestorsOf(root, self);
  if (runners.has(holder))
    return { ok: false, why: `its connection is held by the runner's own process ${holder}` };
  const stat = await topOf(root, holder, runners);
  return stat
    ? { ok: true, stat, holder }
    : { ok: false, why: `process ${holder} ended while it was looked at` };
}

export interface ProcessWatch {
  /** Resolves once the process is gone; never before (nor after `stop`). */
  gone: Promise<void>;
  stop(): void;
}

/**
 * Watches `stat`'s process: gone when its /proc entry is, when it is a zombie, or when its pid names a process with
 * another start time (reused).
 */
export function watchProcess(stat: ProcStat, deps: { root?: string; pollMs?: number } = {}): ProcessWatch {
  const root = deps.root ?? PROC_ROOT;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const gone = new Promise<void>((resolve) => {
    const poll = async () => {
      const now = await readStat(root, stat.pid);
      if (stopped) return;
      const ended = !now || now.startTime !== stat.startTime || now.state === 'Z' || now.state === 'X';
      if (ended) resolve();
      else timer = setTimeout(poll, deps.pollMs ?? RUNTIME_POLL_MS).unref();
    };
    void poll();
  });
  return {
    gone,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
