// Safe zip extraction for function code and layers: no path or symlink out of the target, caps on entries and size.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import yauzl from 'yauzl';
import { UnsafeArchiveError } from '../errors.js';
import { EntryWriter } from './entries.js';

/** Lambda's limit on unzipped code plus layers. */
export const LAMBDA_UNZIPPED_LIMIT = 262_144_000;
/** A zip with more entries than this is refused (Lambda itself has no documented cap; this stops entry floods). */
export const DEFAULT_MAX_ENTRIES = 100_000;

export interface ExtractLimits {
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
  limits: ExtractLimits = {},
): Promise<ExtractResult> {
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxBytes = limits.maxBytes ?? LAMBDA_UNZIPPED_LIMIT;
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

async function extractEntries(
  { zip, bytes: archive }: OpenedZip,
  root: string,
  zipPath: string,
  maxEntries: number,
  maxBytes: number,
): Promise<ExtractResult> {
  const out = new EntryWriter(zip, archive, root, zipPath, maxBytes);
  let entries = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      if (out.failed()) break;
      entries += 1;
      if (entries > maxEntries) {
        throw new UnsafeArchiveError(`${basename(zipPath)} has more than ${maxEntries} entries`);
      }
      await out.add(entry);
    }
    await out.drain();
  } catch (err) {
    // Let running writes finish before the caller removes the folder under them.
    await out.settled();
    throw err;
  }
  return { entries, bytes: await out.finish() };
}
