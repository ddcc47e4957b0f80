// A lock folder that knows its owner: the image build holds it so that one builder at a time works on an engine.
// The folder appears complete (owner.json inside) by one rename, and names the holding process by its pid and, where
// /proc tells it, the time that process started, so a pid the system has since handed to another process is not
// taken for the owner. A lock whose owner is gone (an interrupted run, a test file killed by its timeout) is taken
// over at once, with the scratch folder the owner worked in; a live owner is waited for.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { procStat, running } from '../support/procs.js';

export interface LockOwner {
  pid: number;
  /** the process's start time in clock ticks since boot (/proc/<pid>/stat field 22); absent without /proc */
  started?: string;
  /** a folder the owner may fill while it holds the lock: removed when the lock is released or taken over */
  scratch: string;
  /** when the lock was taken (ISO 8601), for the waiting line */
  since: string;
}

export interface LockOptions {
  /** how often a waiter looks again (default 1 s) */
  pollMs?: number;
  /** give up after waiting this long for a live owner (default an hour) */
  maxWaitMs?: number;
  /** called once per live owner that makes us wait */
  onWait?: (owner: LockOwner) => void;
  /** called when the lock of an owner that is gone is taken over (undefined: the folder named no owner) */
  onTakeOver?: (owner: LockOwner | undefined) => void;
  /** where process information lives (a test points it elsewhere to stand for a system without /proc) */
  procDir?: string;
}

/** This process's identity as a lock owner records it. */
export function identityOf(pid: number, procDir = '/proc'): Pick<LockOwner, 'pid' | 'started'> {
  const stat = procStat(pid, procDir);
  return stat ? { pid, started: stat.started } : { pid };
}

/** True while the process that took the lock runs (a zombie has ended; a pid with another start time is another process). */
export function ownerAlive(owner: Pick<LockOwner, 'pid' | 'started'>, procDir = '/proc'): boolean {
  if (owner.started === undefined) return running(owner.pid, procDir);
  const stat = procStat(owner.pid, procDir);
  return stat !== undefined && stat.started === owner.started && running(owner.pid, procDir);
}

type Seen = LockOwner | 'free' | 'unreadable';

function readOwner(dir: string): Seen {
  let text: string;
  try {
    text = readFileSync(join(dir, 'owner.json'), 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(dir) ? 'free' : 'unreadable';
  }
  try {
    const o = JSON.parse(text) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.scratch === 'string' ? o : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** Puts a folder holding `owner.json` in place as `dir` in one rename; false when another holds `dir`. */
function tryAcquire(dir: string, me: LockOwner): boolean {
  const staging = mkdtempSync(`${dir}.new-`);
  writeFileSync(join(staging, 'owner.json'), JSON.stringify(me));
  try {
    renameSync(staging, dir);
    return true;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  }
}

const sameOwner = (a: Seen, b: Seen) =>
  a === b ||
  (typeof a === 'object' &&
    typeof b === 'object' &&
    a.pid === b.pid &&
    a.started === b.started &&
    a.since === b.since);

/**
 * Moves the stale lock aside, then removes it and its owner's scratch; true when it did. Should another waiter have
 * taken the lock over between our look and our move, what we moved is its live lock: it goes back.
 */
function takeOver(dir: string, seen: Seen): boolean {
  const aside = `${dir}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const moved = readOwner(aside);
  if (!sameOwner(moved, seen)) {
    try {
      renameSync(aside, dir);
    } catch {
      // Yet another waiter got in meanwhile: both go on, the one we moved aside unaware of it.
    }
    return false;
  }
  if (typeof moved === 'object') rmSync(moved.scratch, { recursive: true, force: true });
  rmSync(aside, { recursive: true, force: true });
  return true;
}

/** Holds the lock folder `dir` while `f` runs; `f` gets a scratch folder that goes with the lock. */
export async function withLock<T>(
  dir: string,
  f: (scratch: string) => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const procDir = opts.procDir ?? '/proc';
  mkdirSync(dirname(dir), { recursive: true });
  const scratch = join(
    dirname(dir),
    `${basename(dir)}.scratch-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const me: LockOwner = { ...identityOf(process.pid, procDir), scratch, since: new Date().toISOString() };
  const started = Date.now();
  const waitedFor = new Set<string>();
  while (!tryAcquire(dir, me)) {
    const owner = readOwner(dir);
    if (owner === 'free') continue;
    if (owner === 'unreadable' || !ownerAlive(owner, procDir)) {
      if (takeOver(dir, owner)) opts.onTakeOver?.(owner === 'unreadable' ? undefined : owner);
      continue;
    }
    const key = `${owner.pid} ${owner.started} ${owner.since}`;
    if (!waitedFor.has(key)) opts.onWait?.(owner);
    waitedFor.add(key);
    if (Date.now() - started > (opts.maxWaitMs ?? 60 * 60_000))
      throw new Error(
        `${dir} is held by process ${owner.pid} (running, since ${owner.since}); end it or wait for it`,
      );
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
  mkdirSync(scratch, { recursive: true });
  try {
    return await f(scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    // Only our own lock (had it been taken over, it is the new holder's), moved aside in one step first, so that no
    // waiter sees a half-removed folder and takes it for an interrupted build's.
    if (sameOwner(readOwner(dir), me)) {
      const gone = `${dir}.released-${process.pid}-${randomBytes(4).toString('hex')}`;
      renameSync(dir, gone);
      rmSync(gone, { recursive: true, force: true });
    }
  }
}
