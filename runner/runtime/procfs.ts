// What Linux's /proc says of processes and sockets, read without any tool: a process's state, parent and start time
// (/proc/<pid>/stat), the socket inode of a TCP connection (/proc/net/tcp and tcp6), and which processes hold a
// socket (/proc/<pid>/fd). The root is a parameter, so that tests can lay out a /proc of their own.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export const PROC_ROOT = '/proc';

/** The fields of /proc/<pid>/stat the runner uses. */
export interface ProcStat {
  pid: number;
  /** The executable's name, as the kernel keeps it (at most 15 characters) */
  comm: string;
  /** R, S, D, Z (zombie), X (dead)… */
  state: string;
  /** 0 when the parent is outside this PID namespace */
  ppid: number;
  /** Clock ticks after boot: with the pid, names one process (a pid is reused, its start time is not) */
  startTime: string;
}

/**
 * Parses /proc/<pid>/stat: `pid (comm) state ppid … starttime …`. The name may hold spaces and parentheses, so the
 * fields are counted from the last `)`.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After the name: state (field 3), ppid (4) … starttime (22).
  const [state, ppid, startTime] = [rest[0], rest[1], rest[19]];
  if (!state || ppid === undefined || startTime === undefined) return undefined;
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state,
    ppid: Number(ppid),
    startTime,
  };
}

/** The stat of `pid`, or undefined when it is gone (or cannot be read). */
export async function readStat(root: string, pid: number): Promise<ProcStat | undefined> {
  try {
    return parseStat(await readFile(join(root, String(pid), 'stat'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** A TCP connection by its two ports: the client's (the runtime's) and the server's (the Runtime API's). */
export interface Connection {
  clientPort: number;
  serverPort: number;
}

/**
 * The inode of the client's end of `conn` in a /proc/net/tcp table: the line whose local port is the client's and
 * whose remote port is the server's (ports in hex after the address; the inode is the tenth field). Inode 0 is a
 * socket no process holds any more (TIME_WAIT).
 */
export function inodeInTable(table: string, conn: Connection): string | undefined {
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = Number.parseInt(f[1]?.split(':').at(-1) ?? '', 16);
    const remote = Number.parseInt(f[2]?.split(':').at(-1) ?? '', 16);
    const inode = f[9];
    if (local === conn.clientPort && remote === conn.serverPort && inode && inode !== '0') return inode;
  }
  return undefined;
}

/** The socket inode of the client's end of `conn` in this network namespace (IPv4, then IPv6). */
export async function connectionInode(root: string, conn: Connection): Promise<string | undefined> {
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(join(root, 'net', table), 'utf8').catch(() => '');
    const inode = inodeInTable(text, conn);
    if (inode) return inode;
  }
  return undefined;
}

/** The processes that hold socket `inode` open, and how many processes' descriptors could not be read. */
export async function socketHolders(
  root: string,
  inode: string,
  skip: ReadonlySet<number>,
): Promise<{ pids: number[]; unreadable: number }> {
  const link = `socket:[${inode}]`;
  const pids: number[] = [];
  let unreadable = 0;
  const entries = await readdir(root).catch(() => [] as string[]);
  // Every process at once: a busy machine's few thousand descriptors take a tenth of a second one after another.
  const look = async (name: string) => {
    let fds: string[];
    try {
      fds = await readdir(join(root, name, 'fd'));
    } catch (err) {
      // EACCES: another user's process (no ptrace access); ENOENT: it just ended.
      if ((err as NodeJS.ErrnoException).code === 'EACCES') unreadable += 1;
      return;
    }
    const targets = await Promise.all(fds.map((fd) => readlink(join(root, name, 'fd', fd)).catch(() => '')));
    if (targets.includes(link)) pids.push(Number(name));
  };
  await Promise.all(entries.filter((n) => /^\d+$/.test(n) && !skip.has(Number(n))).map(look));
  pids.sort((a, b) => a - b);
  return { pids, unreadable };
}
