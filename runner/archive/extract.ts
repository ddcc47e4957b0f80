// Safe zip extraction for function code and layers: no path or symlink out of the target, caps on entries and size.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
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

/** Lambda's limit on unzipped code plus layers. */
export const LAMBDA_UNZIPPED_LIMIT = 262_144_000;
/** A zip with more entries than this is refused (Lambda itself has no documented cap; this stops entry floods). */
export const DEFAULT_MAX_ENTRIES = 100_000;

export interface ExtractOptions {
  maxEntries?: number;
  /** Budget of unzipped bytes for this archive (pass what is left of the code+layers budget). */
  maxBytes?: number;
}

export interface ExtractResult {
  entries: number;
  bytes: number;
}

/**
 * Extracts `zipPath` into `targetDir` (which must not exist, or be an empty folder). Entries are streamed one
 * at a time into a temporary sibling folder that is renamed into place only when the whole archive was safe,
 * so a refused archive leaves nothing behind. Throws `UnsafeArchiveError` naming the offending entry.
 */
export async function extractZip(
  zipPath: string,
  targetDir: string,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxBytes = opts.maxBytes ?? LAMBDA_UNZIPPED_LIMIT;
  const tmp = join(dirname(targetDir), `.${basename(targetDir)}.tmp-${randomBytes(6).toString('hex')}`);
  let result: ExtractResult;
  try {
    result = await extractTo(zipPath, tmp, maxEntries, maxBytes);
    await moveIntoPlace(tmp, targetDir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return result;
}

async function extractTo(
  zipPath: string,
  tmp: string,
  maxEntries: number,
  maxBytes: number,
): Promise<ExtractResult> {
  let zip: yauzl.ZipFile | undefined;
  try {
    const opened = await openZip(zipPath);
    zip = opened.zip;
    if (zip.entryCount > maxEntries) {
      throw new UnsafeArchiveError(
        `${basename(zipPath)} has ${zip.entryCount} entries, more than the limit of ${maxEntries}`,
      );
    }
    await mkdir(tmp, { recursive: true });
    return await extractEntries(opened, tmp, zipPath, maxEntries, maxBytes);
  } catch (err) {
    if (err instanceof UnsafeArchiveError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // Our own disk trouble (full, no permission) is not the archive's fault.
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'EDQUOT') throw err;
    throw new UnsafeArchiveError(
      `${basename(zipPath)} is not a valid zip archive: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    zip?.close();
  }
}

/** Zips up to this size are read into memory first: one read instead of several per entry. */
const IN_MEMORY_LIMIT = 64 * 1024 * 1024;

interface OpenedZip {
  zip: yauzl.ZipFile;
  /** The whole archive, when it was small enough to read at once. */
  bytes?: Buffer;
}

async function openZip(zipPath: string): Promise<OpenedZip> {
  const options: yauzl.Options = {
    lazyEntries: true,
    // Entries are read while later ones are listed; we close the file ourselves.
    autoClose: false,
    // Off: we decode and validate names ourselves so that a refusal names the entry.
    decodeStrings: false,
    validateEntrySizes: true,
  };
  const { size } = await stat(zipPath);
  if (size > IN_MEMORY_LIMIT) return { zip: await yauzl.openPromise(zipPath, options) };
  const bytes = await readFile(zipPath);
  return { zip: await yauzl.fromBufferPromise(bytes, options), bytes };
}

async function moveIntoPlace(tmp: string, targetDir: string): Promise<void> {
  try {
    await rename(tmp, targetDir);
  } catch (err) {
    // An empty folder made by the caller is fine to replace; anything else is the caller's to handle.
    if (
      (err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' &&
      (err as NodeJS.ErrnoException).code !== 'EEXIST'
    )
      throw err;
    await rmdir(targetDir);
    await rename(tmp, targetDir);
  }
}

/** Files written at once: small files are dominated by syscalls, which overlap well. */
const PARALLEL_WRITES = 8;

async function extractEntries(
  { zip, bytes: archive }: OpenedZip,
  root: string,
  zipPath: string,
  maxEntries: number,
  maxBytes: number,
): Promise<ExtractResult> {
  const links = new Map<string, string>();
  const seen = new Set<string>();
  const madeDirs = new Set<string>();
  const dirModes: Array<[string, number]> = [];
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let entries = 0;
  // Reserved from declared sizes before writing; each write may not exceed its declared size, so the
  // real total cannot pass the budget even with writes running side by side.
  let reserved = 0;
  let bytes = 0;
  // Uncompressed bytes of the entries being inflated whole right now (see WHOLE_ENTRY_BUDGET).
  let wholeBytes = 0;
  const ensureDir = async (dir: string) => {
    if (madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    madeDirs.add(dir);
  };
  const drain = async () => {
    await Promise.allSettled(inflight);
    if (failure) throw failure.error;
  };
  try {
    for await (const entry of zip.eachEntry()) {
      if (failure) break;
      entries += 1;
      if (entries > maxEntries) {
        throw new UnsafeArchiveError(`${basename(zipPath)} has more than ${maxEntries} entries`);
      }
      const rawName = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw as unknown as Buffer,
        entry.extraFields,
        false,
      );
      const name = checkedEntryName(rawName, links);
      if (name === '') continue;
      // A name seen before replaces the earlier entry, which must be finished first.
      if (seen.has(name)) await drain();
      seen.add(name);
      const unixMode = unixModeOf(entry);
      const type = unixMode & S_IFMT;
      const dest = join(root, name);
      if (rawName.endsWith('/') || type === S_IFDIR) {
        await ensureDir(dest);
        dirModes.push([dest, unixMode & 0o777 ? (unixMode & 0o777) | 0o700 : 0o755]);
        continue;
      }
      if (entry.isEncrypted()) throw new UnsafeArchiveError(`entry ${JSON.stringify(rawName)} is encrypted`);
      if (entry.uncompressedSize > maxBytes - reserved) throw tooLarge(zipPath, rawName, maxBytes);
      reserved += entry.uncompressedSize;
      await ensureDir(dirname(dest));
      const whole =
        archive !== undefined &&
        (entry.compressedSize <= SMALL_ENTRY || wholeBytes + entry.uncompressedSize <= WHOLE_ENTRY_BUDGET);
      const held =
        whole && type !== S_IFLNK && entry.compressedSize > SMALL_ENTRY ? entry.uncompressedSize : 0;
      wholeBytes += held;
      // Opened only when we read it at once: yauzl starts inflating and may fail before anyone listens.
      const openContent = (): Promise<EntryContent> =>
        whole ? inflateSmall(zip, archive, entry, rawName) : zip.openReadStreamPromise(entry);
      if (type === S_IFLNK) {
        const target = await makeSymlink(await openContent(), dest, rawName);
        bytes += target.length;
        links.set(name, target);
        continue;
      }
      const mode = unixMode & 0o777 ? (unixMode & 0o777) | 0o400 : 0o644;
      const declared = entry.uncompressedSize;
      const task: Promise<void> = writeEntry(openContent, dest, mode, declared, rawName, () =>
        lyingSize(rawName, declared),
      ).then(
        (n) => {
          bytes += n;
          wholeBytes -= held;
          inflight.delete(task);
        },
        (error: unknown) => {
          failure ??= { error };
          wholeBytes -= held;
          inflight.delete(task);
        },
      );
      inflight.add(task);
      if (inflight.size >= PARALLEL_WRITES) await Promise.race(inflight);
    }
    await drain();
  } catch (err) {
    // Let running writes finish before the caller removes the folder under them.
    await Promise.allSettled(inflight);
    throw err;
  }
  // Checked once every link exists: a link can point through another one made after it.
  for (const [name, target] of links) {
    if (!resolvesInside(name, links)) {
      throw new UnsafeArchiveError(`symlink ${JSON.stringify(name)} points outside the archive: ${target}`);
    }
  }
  // Deepest first, so a read-only folder does not stop us fixing its children.
  for (const [dir, mode] of dirModes.reverse()) await chmod(dir, mode);
  return { entries, bytes };
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
