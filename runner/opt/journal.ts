// The opt dir's journal: who is using it, every change a run made to it, and how to take those changes back.
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FunctionPrepareError } from '../errors.js';

/**
 * The run's record inside the opt dir (its owner, its journal and the backups of what it replaced). It is
 * also the opt dir's lock: made with mkdir, which only one run can win.
 */
export const JOURNAL_DIR = '.run-lambda-overlay';

export interface JournalDeps {
  warn?: (message: string) => void;
}

/** One change, written to the journal before it is made, so an undo after a SIGKILL knows every change. */
export type Change =
  /** a file or link the run created where nothing was */
  | { op: 'add'; rel: string }
  /** a folder the run created where nothing was (removed with whatever is in it) */
  | { op: 'mkdir'; rel: string }
  /** something the opt dir had (the image's own) moved to `backup` and replaced */
  | { op: 'replace'; rel: string; backup: string }
  /** the opt dir itself, created by the run */
  | { op: 'root'; path: string };

/** At the start of a run without layers: takes off what a killed run left, or says who is still using it. */
export async function recoverOverlay(optDir: string, deps: JournalDeps = {}): Promise<void> {
  const owner = readOwner(optDir);
  if (owner === undefined) return;
  if (ownerAlive(owner)) {
    deps.warn?.(
      `the opt dir ${optDir} holds the layers of another run (${owner}), which this function will see`,
    );
    return;
  }
  deps.warn?.(`taking the layers of a run that ended without doing so (${owner}) off ${optDir}`);
  await undoJournal(optDir);
}

/** Makes the journal folder (the lock); a dead owner's is undone first, a live one's refused. */
export async function takeOptDir(optDir: string, deps: JournalDeps): Promise<void> {
  const journalDir = join(optDir, JOURNAL_DIR);
  // Rounds of a claim, not retries of a failure (lib/retry.ts): each round that finds a dead owner undoes its
  // journal and claims again at once; nothing here is worth a wait.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await mkdir(journalDir);
      await writeFile(join(journalDir, 'owner'), `${process.pid}@${hostname()}`);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(optDir) ?? '';
    if (ownerAlive(owner)) {
      throw new FunctionPrepareError(
        `the opt dir ${optDir} is in use by another run (${owner}); wait for it, or give this run its own with --opt-dir`,
      );
    }
    deps.warn?.(
      `taking the layers of a run that ended without doing so (${owner || 'unknown'}) off ${optDir}`,
    );
    await undoJournal(optDir);
  }
  throw new FunctionPrepareError(`could not take the opt dir ${optDir}: other runs keep claiming it`);
}

function readOwner(optDir: string): string | undefined {
  const journalDir = join(optDir, JOURNAL_DIR);
  if (!existsSync(journalDir)) return undefined;
  try {
    return readFileSync(join(journalDir, 'owner'), 'utf8').trim();
  } catch {
    return '';
  }
}

/** Alive: on this host with a running pid. Another host's (a shared opt dir) counts as alive: not ours to undo. */
function ownerAlive(owner: string): boolean {
  const m = /^(\d+)@(.*)$/.exec(owner);
  if (!m) return false;
  if (m[2] !== hostname()) return true;
  try {
    process.kill(Number(m[1]), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reverts the journal's changes, last first (a torn last line is a change never made), then removes it. */
export async function undoJournal(optDir: string): Promise<void> {
  const journalDir = join(optDir, JOURNAL_DIR);
  let text = '';
  try {
    text = readFileSync(join(journalDir, 'journal'), 'utf8');
  } catch {
    // no change was recorded
  }
  const changes: Change[] = [];
  for (const line of text.split('\n')) {
    try {
      if (line) changes.push(JSON.parse(line) as Change);
    } catch {
      // torn by a kill while it was written
    }
  }
  let root: string | undefined;
  for (const c of changes.reverse()) {
    if (c.op === 'root') root = c.path;
    else if (c.op === 'add' || c.op === 'mkdir')
      await rm(join(optDir, c.rel), { recursive: true, force: true });
    else if (existsSync(join(optDir, c.backup))) {
      await rm(join(optDir, c.rel), { recursive: true, force: true });
      await move(join(optDir, c.backup), join(optDir, c.rel));
    }
  }
  await rm(journalDir, { recursive: true, force: true });
  if (root) await rm(root, { recursive: true, force: true });
}

/**
 * Renames `from` to `to`; where the kernel cannot (EXDEV: a folder of a lower layer of an overlay
 * filesystem, such as an image's /opt in Docker) it copies, links and modes kept, then removes `from`.
 */
export async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await cp(from, to, {
      recursive: true,
      verbatimSymlinks: true,
      preserveTimestamps: true,
      errorOnExist: true,
    });
    await rm(from, { recursive: true, force: true });
  }
}
