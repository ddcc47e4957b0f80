// A lock file per cache entry, so runners started together on a new version download it once and the rest wait.
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { withRetries } from '../../lib/retry.js';

/** A lock from another host (a shared volume) counts as abandoned when it has not changed for this long. */
export const FOREIGN_LOCK_STALE_MS = 15 * 60 * 1000;
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 500;

export interface HeldLock {
  release(): Promise<void>;
}

export type LockResult = { kind: 'held'; lock: HeldLock } | { kind: 'ready' };

export interface LockDeps {
  /** True once the entry the lock guards exists: waiting ends there without taking the lock. */
  ready: () => boolean;
  /** Called once when the lock is busy, to say who is being waited for. */
  onWait?: (holder: string) => void;
  signal?: AbortSignal;
}

/** One look found the lock held: by `holder` (undefined: unreadable), or `abandoned` by it and just removed. */
class LockBusy extends Error {
  override name = 'LockBusy';
  constructor(
    lockPath: string,
    readonly holder: string | undefined,
    readonly abandoned: boolean,
  ) {
    super(`${lockPath} is held by ${holder ?? 'another runner'}`);
  }
}

/**
 * Takes `lockPath` (O_EXCL; the file holds `pid@host`) or waits until `ready()` says another runner finished.
 * A lock whose holder died (same host, pid gone) or went silent (other host) is taken over at once. A takeover race
 * can at worst let two runners download the same entry, which the cache's temp-folder-and-rename tolerates. The
 * looks are lib/retry.ts's loop, for as long as it takes (or until `signal` aborts): 25 ms apart, doubling to 500.
 */
export async function lockOrWait(lockPath: string, deps: LockDeps): Promise<LockResult> {
  const me = `${process.pid}@${hostname()}`;
  let poll = FIRST_POLL_MS;
  let told = false;
  return withRetries(() => look(lockPath, me, deps), {
    attempts: Number.POSITIVE_INFINITY,
    baseDelayMs: FIRST_POLL_MS,
    retryable: (err) => err instanceof LockBusy,
    delayMs: (_, err) => {
      if ((err as LockBusy).abandoned) return 0;
      const wait = poll;
      poll = Math.min(poll * 2, MAX_POLL_MS);
      return wait;
    },
    onRetry: (err) => {
      const { holder, abandoned } = err as LockBusy;
      if (told || !holder || abandoned) return;
      told = true;
      deps.onWait?.(holder);
    },
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
}

/** One look: the entry is ready, or the lock is now ours; else LockBusy. */
async function look(lockPath: string, me: string, deps: LockDeps): Promise<LockResult> {
  if (deps.ready()) return { kind: 'ready' };
  try {
    await writeFile(lockPath, me, { flag: 'wx' });
    return { kind: 'held', lock: { release: () => releaseIfMine(lockPath, me) } };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = await readHolder(lockPath);
  const abandoned = holder !== undefined && (await isAbandoned(lockPath, holder));
  if (abandoned) await unlink(lockPath).catch(() => {});
  throw new LockBusy(lockPath, holder, abandoned);
}

async function readHolder(lockPath: string): Promise<string | undefined> {
  try {
    return (await readFile(lockPath, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function isAbandoned(lockPath: string, holder: string): Promise<boolean> {
  const m = /^(\d+)@(.*)$/.exec(holder);
  if (m?.[2] === hostname()) return !alive(Number(m[1]));
  // Empty (its writer died between create and write) or another host's: judged by age.
  const s = await stat(lockPath).catch(() => undefined);
  const staleAfter = holder === '' ? 10_000 : FOREIGN_LOCK_STALE_MS;
  return s !== undefined && Date.now() - s.mtimeMs > staleAfter;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseIfMine(lockPath: string, me: string): Promise<void> {
  if ((await readHolder(lockPath)) === me) await unlink(lockPath).catch(() => {});
}
