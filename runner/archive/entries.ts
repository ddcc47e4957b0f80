// An archive's entries written under a folder: each name checked, files written side by side within the archive's
// byte budget (declared sizes reserved first, real sizes counted), links checked once all are out, folders' modes last.
import { chmod, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import yauzl from 'yauzl';
import { UnsafeArchiveError } from '../errors.js';
import {
  type EntryContent,
  inflateSmall,
  makeSymlink,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  SMALL_ENTRY,
  unixModeOf,
  WHOLE_ENTRY_BUDGET,
  writeEntry,
} from './entry-io.js';
import { checkedEntryName, resolvesInside } from './paths.js';

/** Files written at once: small files are dominated by syscalls, which overlap well. */
const PARALLEL_WRITES = 8;

/** A file entry on its way to disk. */
interface FileEntry {
  rawName: string;
  dest: string;
  mode: number;
  /** Its declared uncompressed size: what it may write at most. */
  declared: number;
  /** Bytes it holds in memory while it is written (inflated whole). */
  held: number;
  openContent: () => Promise<EntryContent>;
}

export class EntryWriter {
  private readonly links = new Map<string, string>();
  private readonly seen = new Set<string>();
  private readonly madeDirs = new Set<string>();
  private readonly dirModes: Array<[string, number]> = [];
  private readonly inflight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  // Reserved from declared sizes before writing; each write may not exceed its declared size, so the
  // real total cannot pass the budget even with writes running side by side.
  private reserved = 0;
  private bytes = 0;
  // Uncompressed bytes of the entries being inflated whole right now (see WHOLE_ENTRY_BUDGET).
  private wholeBytes = 0;

  /** `archive`: the whole zip, when it was read into memory (small entries are then inflated at once). */
  constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly archive: Buffer | undefined,
    private readonly root: string,
    private readonly zipPath: string,
    private readonly maxBytes: number,
  ) {}

  /** A write failed: no more entries are started. */
  failed(): boolean {
    return this.failure !== undefined;
  }

  async add(entry: yauzl.Entry): Promise<void> {
    const rawName = yauzl.getFileNameLowLevel(
      entry.generalPurposeBitFlag,
      entry.fileNameRaw as unknown as Buffer,
      entry.extraFields,
      false,
    );
    const name = checkedEntryName(rawName, this.links);
    if (name === '') return;
    // A name seen before replaces the earlier entry, which must be finished first.
    if (this.seen.has(name)) await this.drain();
    this.seen.add(name);
    const unixMode = unixModeOf(entry);
    const type = unixMode & S_IFMT;
    const dest = join(this.root, name);
    if (rawName.endsWith('/') || type === S_IFDIR) {
      await this.ensureDir(dest);
      this.dirModes.push([dest, unixMode & 0o777 ? (unixMode & 0o777) | 0o700 : 0o755]);
      return;
    }
    if (entry.isEncrypted()) throw new UnsafeArchiveError(`entry ${JSON.stringify(rawName)} is encrypted`);
    if (entry.uncompressedSize > this.maxBytes - this.reserved) {
      throw tooLarge(this.zipPath, rawName, this.maxBytes);
    }
    this.reserved += entry.uncompressedSize;
    await this.ensureDir(dirname(dest));
    const { zip, archive } = this;
    const whole =
      archive !== undefined &&
      (entry.compressedSize <= SMALL_ENTRY || this.wholeBytes + entry.uncompressedSize <= WHOLE_ENTRY_BUDGET);
    const held = whole && type !== S_IFLNK && entry.compressedSize > SMALL_ENTRY ? entry.uncompressedSize : 0;
    this.wholeBytes += held;
    // Opened only when we read it at once: yauzl starts inflating and may fail before anyone listens.
    const openContent = (): Promise<EntryContent> =>
      whole ? inflateSmall(zip, archive, entry, rawName) : zip.openReadStreamPromise(entry);
    if (type === S_IFLNK) {
      const target = await makeSymlink(await openContent(), dest, rawName);
      this.bytes += target.length;
      this.links.set(name, target);
      return;
    }
    const mode = unixMode & 0o777 ? (unixMode & 0o777) | 0o400 : 0o644;
    await this.startWrite({ rawName, dest, mode, declared: entry.uncompressedSize, held, openContent });
  }

  /** Waits for the writes under way; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.inflight);
    if (this.failure) throw this.failure.error;
  }

  /** Waits for the writes under way, however they end. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }

  /** Checks the links and sets the folders' modes once every entry is out; returns the bytes written. */
  async finish(): Promise<number> {
    // Checked once every link exists: a link can point through another one made after it.
    for (const [name, target] of this.links) {
      if (!resolvesInside(name, this.links)) {
        throw new UnsafeArchiveError(`symlink ${JSON.stringify(name)} points outside the archive: ${target}`);
      }
    }
    // Deepest first, so a read-only folder does not stop us fixing its children.
    for (const [dir, mode] of this.dirModes.reverse()) await chmod(dir, mode);
    return this.bytes;
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  /**
   * Starts writing a file beside the others; waits while PARALLEL_WRITES are under way. Its own bound, not
   * lib/pool.ts's: the entries come one at a time from the archive's stream, and each reserves its bytes before it
   * starts, so there is no list to hand a pool.
   */
  private async startWrite(file: FileEntry): Promise<void> {
    const { rawName, declared } = file;
    const task: Promise<void> = writeEntry(file.openContent, file.dest, file.mode, declared, rawName, () =>
      lyingSize(rawName, declared),
    ).then(
      (n) => {
        this.bytes += n;
        this.wholeBytes -= file.held;
        this.inflight.delete(task);
      },
      (error: unknown) => {
        this.failure ??= { error };
        this.wholeBytes -= file.held;
        this.inflight.delete(task);
      },
    );
    this.inflight.add(task);
    if (this.inflight.size >= PARALLEL_WRITES) await Promise.race(this.inflight);
  }
}

function lyingSize(entry: string, declared: number): UnsafeArchiveError {
  return new UnsafeArchiveError(
    `entry ${JSON.stringify(entry)} unzips to more than its declared ${declared} bytes`,
  );
}

function tooLarge(zipPath: string, entry: string, maxBytes: number): UnsafeArchiveError {
  return new UnsafeArchiveError(
    `${basename(zipPath)} unzips to more than the ${maxBytes} bytes allowed (at entry ${JSON.stringify(entry)})`,
  );
}
