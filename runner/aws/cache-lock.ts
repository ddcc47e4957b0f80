// A lock file per cache entry, so runners started together on a new version download it once and the rest wait.
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

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

/**
 * Takes `lockPath` (O_EXCL; the file holds `pid@host`) or waits until `ready()` says another runner finished.
 * A lock whose holder died (same host, pid gone) or went silent (other host) is taken over. A takeover race
 * can at worst let two runners download the same entry, which the cache's temp-folder-and-rename tolerates.
 */
export async function lockOrWait(lockPath: string, deps: LockDeps): Promise<LockResult> {
  const me = `${process.pid}@${hostname()}`;
  let delay = FIRST_POLL_MS;
  let told = false;
  for (;;) {
    if (deps.ready()) return { kind: 'ready' };
    try {
      await writeFile(lockPath, me, { flag: 'wx' });
      return { kind: 'held', lock: { release: () => releaseIfMine(lockPath, me) } };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(lockPath);
    if (holder !== undefined && (await abandoned(lockPath, holder))) {
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (!told && holder) {
      told = true;
      deps.onWait?.(holder);
    }
    await sleep(delay, undefined, deps.signal ? { signal: deps.signal } : {});
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

async function readHolder(lockPath: string): Promise<string | undefined> {
  try {
    return (await readFile(lockPath, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function abandoned(lockPath: string, holder: string): Promise<boolean> {
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
