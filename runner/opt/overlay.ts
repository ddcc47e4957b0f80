// The function's layers laid over the opt dir for one run, and taken off again (runner/opt/journal.ts).
import { appendFileSync, constants as fsc, lstatSync } from 'node:fs';
import { copyFile, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { mapBounded } from '../../lib/pool.js';
import { resolvesInside } from '../archive/paths.js';
import { UnsafeArchiveError } from '../errors.js';
import {
  type Change,
  JOURNAL_DIR,
  type JournalDeps,
  move,
  recoverOverlay,
  takeOptDir,
  undoJournal,
} from './journal.js';

export { JOURNAL_DIR, recoverOverlay } from './journal.js';

/** Files copied at once: enough to keep the disk busy, few enough not to run out of descriptors. */
const PARALLEL = 16;

export interface Overlay {
  /** Puts the opt dir back as it was: removes what the run added, restores what it replaced. */
  undo(): Promise<void>;
}

export type OverlayDeps = JournalDeps;

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
  deps: OverlayDeps = {},
): Promise<Overlay> {
  if (layers.length === 0) {
    await recoverOverlay(optDir, deps);
    return nothing;
  }
  const created = await mkdir(optDir, { recursive: true });
  const journalDir = join(optDir, JOURNAL_DIR);
  await takeOptDir(optDir, deps);
  const journal = join(journalDir, 'journal');
  const overlay: Overlay = { undo: () => undoJournal(optDir) };
  try {
    const laying = new Laying(optDir, (changes) => {
      if (changes.length > 0) appendFileSync(journal, changes.map((c) => `${JSON.stringify(c)}\n`).join(''));
    });
    if (created) laying.record([{ op: 'root', path: created }]);
    await mkdir(join(journalDir, 'backup'));
    for (const layer of layers) {
      const { dirs, files } = await walk(layer);
      await laying.folders(dirs);
      await laying.files(layer, files);
    }
    laying.checkLinks();
    return overlay;
  } catch (err) {
    await overlay.undo().catch(() => {});
    throw err;
  }
}

/** What the layers laid so far have put in the opt dir, each change journaled before it is made. */
class Laying {
  /** What a layer laid at each path (a later layer replaces it without another record). */
  private readonly laid = new Map<string, 'file' | 'dir'>();
  /** The links laid, by path: checked together once every layer is laid. */
  private readonly links = new Map<string, string>();
  private backups = 0;

  constructor(
    private readonly optDir: string,
    /** Appends changes to the journal (before they are made). */
    readonly record: (changes: Change[]) => void,
  ) {}

  /** A layer's folders, parents first: merged into the opt dir's own, made where nothing (or a file) was. */
  async folders(dirs: string[]): Promise<void> {
    for (const rel of dirs) {
      if (rel === JOURNAL_DIR || rel.startsWith(`${JOURNAL_DIR}/`)) {
        throw new UnsafeArchiveError(`a layer has an entry ${rel}, the runner's own place in the opt dir`);
      }
      const dest = join(this.optDir, rel);
      const mine = this.laid.get(rel);
      if (mine === 'dir') continue;
      if (mine === 'file') {
        // An earlier layer's file or link: already journaled, so replaced without a record.
        await rm(dest, { force: true });
      } else {
        const s = lstatSync(dest, { throwIfNoEntry: false });
        if (s?.isDirectory()) continue; // the opt dir's own folder: merged into
        const change: Change = s ? { op: 'replace', rel, backup: this.backupOf() } : { op: 'mkdir', rel };
        this.record([change]);
        if (change.op === 'replace') await move(dest, join(this.optDir, change.backup));
      }
      await mkdir(dest);
      this.laid.set(rel, 'dir');
      this.links.delete(rel);
    }
  }

  /** A layer's files and links, over what is there: journaled together, then copied PARALLEL at a time. */
  async files(layer: string, files: LayerFile[]): Promise<void> {
    const changes: Change[] = [];
    const jobs: Array<() => Promise<void>> = [];
    for (const f of files) {
      const dest = join(this.optDir, f.rel);
      const mine = this.laid.get(f.rel);
      let clear: (() => Promise<void>) | undefined;
      if (mine) clear = () => rm(dest, { recursive: true, force: true });
      else {
        const s = lstatSync(dest, { throwIfNoEntry: false });
        if (!s) changes.push({ op: 'add', rel: f.rel });
        else {
          const backup = this.backupOf();
          changes.push({ op: 'replace', rel: f.rel, backup });
          clear = () => move(dest, join(this.optDir, backup));
        }
      }
      this.laid.set(f.rel, 'file');
      if (f.link !== undefined) this.links.set(f.rel, f.link);
      else this.links.delete(f.rel);
      const src = join(layer, f.rel);
      const link = f.link;
      jobs.push(async () => {
        await clear?.();
        if (link !== undefined) await symlink(link, dest);
        else await copyFile(src, dest, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE);
      });
    }
    this.record(changes);
    await mapBounded(jobs, PARALLEL, (job) => job());
  }

  /**
   * Each layer's links stay inside it alone; together (a later `a -> .` under an earlier `esc -> a/../..`) they must
   * stay inside the opt dir as well.
   */
  checkLinks(): void {
    for (const [rel, target] of this.links) {
      if (!resolvesInside(rel, this.links)) {
        throw new UnsafeArchiveError(
          `the layers together make the symlink ${rel} point outside ${this.optDir}: ${target}`,
        );
      }
    }
  }

  private backupOf(): string {
    this.backups += 1;
    return join(JOURNAL_DIR, 'backup', String(this.backups));
  }
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
