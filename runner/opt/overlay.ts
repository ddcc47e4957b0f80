// The function's layers laid over the opt dir for one run, and taken off again: a journal of every change.
import { appendFileSync, existsSync, constants as fsc, lstatSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { resolvesInside } from '../archive/paths.js';
import { FunctionPrepareError, UnsafeArchiveError } from '../errors.js';

/**
 * The run's record inside the opt dir (its owner, its journal and the backups of what it replaced). It is
 * also the opt dir's lock: made with mkdir, which only one run can win.
 */
export const JOURNAL_DIR = '.run-lambda-overlay';
/** Files copied at once: enough to keep the disk busy, few enough not to run out of descriptors. */
const PARALLEL = 16;

/** One change, written to the journal before it is made, so an undo after a SIGKILL knows every change. */
type Change =
  /** a file or link the run created where nothing was */
  | { op: 'add'; rel: string }
  /** a folder the run created where nothing was (removed with whatever is in it) */
  | { op: 'mkdir'; rel: string }
  /** something the opt dir had (the image's own) moved to `backup` and replaced */
  | { op: 'replace'; rel: string; backup: string }
  /** the opt dir itself, created by the run */
  | { op: 'root'; path: string };

export interface Overlay {
  /** Puts the opt dir back as it was: removes what the run added, restores what it replaced. */
  undo(): Promise<void>;
}

export interface OverlayOptions {
  warn?: (message: string) => void;
}

const nothing: Overlay = { undo: async () => {} };

/**
 * Lays `layers` (extracted folders, in the function's order) over `optDir` as Lambda does: folders merged,
 * a later layer's file over an earlier one's, and over the opt dir's own files (an image's /opt). What is
 * there is never written through: a symlink or file where a layer has a folder is replaced by a folder, so
 * layers together cannot reach out of the opt dir; and the merged tree's links are checked once all are
 * laid. Every change is journaled first; `undo()` (at the end of the run, or at the start of the next one
 * when this one was killed) removes exactly what was added and restores what was replaced.
 */
export async function applyLayers(
  layers: string[],
  optDir: string,
  opts: OverlayOptions = {},
): Promise<Overlay> {
  if (layers.length === 0) {
    await recoverOverlay(optDir, opts);
    return nothing;
  }
  const created = await mkdir(optDir, { recursive: true });
  const journalDir = join(optDir, JOURNAL_DIR);
  await takeOptDir(optDir, opts);
  const journal = join(journalDir, 'journal');
  const record = (changes: Change[]) => {
    if (changes.length > 0) appendFileSync(journal, changes.map((c) => `${JSON.stringify(c)}\n`).join(''));
  };
  const overlay: Overlay = { undo: () => undoJournal(optDir) };
  try {
    if (created) record([{ op: 'root', path: created }]);
    await mkdir(join(journalDir, 'backup'));
    const laid = new Map<string, 'file' | 'dir'>();
    const links = new Map<string, string>();
    let backups = 0;
    const backupOf = () => join(JOURNAL_DIR, 'backup', String(++backups));
    for (const layer of layers) {
      const { dirs, files } = await walk(layer);
      for (const rel of dirs) {
        if (rel === JOURNAL_DIR || rel.startsWith(`${JOURNAL_DIR}/`)) {
          throw new UnsafeArchiveError(`a layer has an entry ${rel}, the runner's own place in the opt dir`);
        }
        const dest = join(optDir, rel);
        const mine = laid.get(rel);
        if (mine === 'dir') continue;
        if (mine === 'file') {
          // An earlier layer's file or link: already journaled, so replaced without a record.
          await rm(dest, { force: true });
        } else {
          const s = lstatSync(dest, { throwIfNoEntry: false });
          if (s?.isDirectory()) continue; // the opt dir's own folder: merged into
          const change: Change = s ? { op: 'replace', rel, backup: backupOf() } : { op: 'mkdir', rel };
          record([change]);
          if (change.op === 'replace') await rename(dest, join(optDir, change.backup));
        }
        await mkdir(dest);
        laid.set(rel, 'dir');
        links.delete(rel);
      }
      const changes: Change[] = [];
      const jobs: Array<() => Promise<void>> = [];
      for (const f of files) {
        const dest = join(optDir, f.rel);
        const mine = laid.get(f.rel);
        let clear: (() => Promise<void>) | undefined;
        if (mine) clear = () => rm(dest, { recursive: true, force: true });
        else {
          const s = lstatSync(dest, { throwIfNoEntry: false });
          if (!s) changes.push({ op: 'add', rel: f.rel });
          else {
            const backup = backupOf();
            changes.push({ op: 'replace', rel: f.rel, backup });
            clear = () => rename(dest, join(optDir, backup));
          }
        }
        laid.set(f.rel, 'file');
        if (f.link !== undefined) links.set(f.rel, f.link);
        else links.delete(f.rel);
        const src = join(layer, f.rel);
        const link = f.link;
        jobs.push(async () => {
          await clear?.();
          if (link !== undefined) await symlink(link, dest);
          else await copyFile(src, dest, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE);
        });
      }
      record(changes);
      await runAll(jobs);
    }
    // Each layer's links stay inside it alone; together (a later `a -> .` under an earlier `esc -> a/../..`)
    // they must stay inside the opt dir as well.
    for (const [rel, target] of links) {
      if (!resolvesInside(rel, links)) {
        throw new UnsafeArchiveError(
          `the layers together make the symlink ${rel} point outside ${optDir}: ${target}`,
        );
      }
    }
    return overlay;
  } catch (err) {
    await overlay.undo().catch(() => {});
    throw err;
  }
}

/** At the start of a run without layers: takes off what a killed run left, or says who is still using it. */
export async function recoverOverlay(optDir: string, opts: OverlayOptions = {}): Promise<void> {
  const owner = readOwner(optDir);
  if (owner === undefined) return;
  if (ownerAlive(owner)) {
    opts.warn?.(
      `the opt dir ${optDir} holds the layers of another run (${owner}), which this function will see`,
    );
    return;
  }
  opts.warn?.(`taking the layers of a run that ended without doing so (${owner}) off ${optDir}`);
  await undoJournal(optDir);
}

/** Makes the journal folder (the lock); a dead owner's is undone first, a live one's refused. */
async function takeOptDir(optDir: string, opts: OverlayOptions): Promise<void> {
  const journalDir = join(optDir, JOURNAL_DIR);
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
    opts.warn?.(
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
async function undoJournal(optDir: string): Promise<void> {
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
      await rename(join(optDir, c.backup), join(optDir, c.rel));
    }
  }
  await rm(journalDir, { recursive: true, force: true });
  if (root) await rm(root, { recursive: true, force: true });
}

interface LayerFile {
  rel: string;
  /** the target, for a symlink */
  link?: string;
}

/** A layer's folders (parents first) and its files and links, as paths relative to it. */
async function walk(root: string): Promise<{ dirs: string[]; files: LayerFile[] }> {
  const dirs: string[] = [];
  const files: LayerFile[] = [];
  const visit = async (rel: string) => {
    for (const e of await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true })) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        dirs.push(child);
        await visit(child);
      } else if (e.isSymbolicLink()) files.push({ rel: child, link: await readlink(join(root, child)) });
      else if (e.isFile()) files.push({ rel: child });
    }
  };
  await visit('');
  return { dirs, files };
}

/** Runs `jobs` a few at a time; on a failure starts no more, waits for the running ones, then throws the first. */
async function runAll(jobs: Array<() => Promise<void>>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < jobs.length) {
      const job = jobs[next++];
      try {
        await job?.();
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, jobs.length) }, worker));
  if (failed) throw failed.error;
}
