// Safe zip extraction for function code and layers: no path or symlink out of the target, caps on entries and size.
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { chmod, mkdir, open, rename, rm, rmdir, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { UnsafeArchiveError } from '../errors.js';
import { normalizeEntryName, resolvesInside } from './paths.js';

/** Lambda's limit on unzipped code plus layers. */
export const LAMBDA_UNZIPPED_LIMIT = 262_144_000;
/** A zip with more entries than this is refused (Lambda itself has no documented cap; this stops entry floods). */
export const DEFAULT_MAX_ENTRIES = 100_000;
/** A symlink's target is its entry's content; anything longer than PATH_MAX is not a real link. */
const MAX_LINK_BYTES = 4096;

export interface ExtractOptions {
  maxEntries?: number;
  /** Budget of unzipped bytes for this archive (pass what is left of the code+layers budget). */
  maxBytes?: number;
}

export interface ExtractResult {
  entries: number;
  bytes: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const MADE_BY_UNIX = 3;

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
    // decodeStrings off: we decode and validate names ourselves so the refusal names the entry.
    zip = await yauzl.openPromise(zipPath, {
      lazyEntries: true,
      decodeStrings: false,
      validateEntrySizes: true,
    });
    if (zip.entryCount > maxEntries) {
      throw new UnsafeArchiveError(
        `${basename(zipPath)} has ${zip.entryCount} entries, more than the limit of ${maxEntries}`,
      );
    }
    await mkdir(tmp, { recursive: true });
    return await extractEntries(zip, tmp, zipPath, maxEntries, maxBytes);
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
  zip: yauzl.ZipFile,
  root: string,
  zipPath: string,
  maxEntries: number,
  maxBytes: number,
): Promise<ExtractResult> {
  const links = new Map<string, string>();
  let entries = 0;
  let bytes = 0;
  const dirModes: Array<[string, number]> = [];
  for await (const entry of zip.eachEntry()) {
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
    const name = normalizeEntryName(rawName);
    if (typeof name !== 'string')
      throw new UnsafeArchiveError(`entry ${JSON.stringify(rawName)}: ${name.reason}`);
    if (name === '') continue;
    // Writing through a symlink we made earlier would land wherever the link points.
    const parts = name.split('/');
    for (let i = 1; i <= parts.length; i++) {
      if (links.has(parts.slice(0, i).join('/'))) {
        throw new UnsafeArchiveError(
          `entry ${JSON.stringify(rawName)} goes through the symlink ${parts.slice(0, i).join('/')}`,
        );
      }
    }
    const unixMode = unixModeOf(entry);
    const type = unixMode & S_IFMT;
    const dest = join(root, name);
    if (rawName.endsWith('/') || type === S_IFDIR) {
      await mkdir(dest, { recursive: true });
      dirModes.push([dest, unixMode & 0o777 ? (unixMode & 0o777) | 0o700 : 0o755]);
      continue;
    }
    if (entry.isEncrypted()) throw new UnsafeArchiveError(`entry ${JSON.stringify(rawName)} is encrypted`);
    if (entry.uncompressedSize > maxBytes - bytes) throw tooLarge(zipPath, rawName, maxBytes);
    await mkdir(dirname(dest), { recursive: true });
    // Opened only when we read it at once: yauzl starts inflating and may fail before anyone listens.
    const openStream = () => zip.openReadStreamPromise(entry);
    if (type === S_IFLNK) {
      const target = (await readAll(await openStream(), MAX_LINK_BYTES, rawName)).toString('utf8');
      bytes += target.length;
      if (target === '' || target.startsWith('/') || target.includes('\0')) {
        throw new UnsafeArchiveError(
          `symlink ${JSON.stringify(rawName)} points outside the archive: ${target}`,
        );
      }
      links.set(name, target);
      await symlink(target, dest).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        throw new UnsafeArchiveError(`symlink ${JSON.stringify(rawName)} would replace an earlier entry`);
      });
      continue;
    }
    const mode = unixMode & 0o777 ? (unixMode & 0o777) | 0o400 : 0o644;
    bytes += await writeEntry(openStream, dest, mode, maxBytes - bytes, rawName, () =>
      tooLarge(zipPath, rawName, maxBytes),
    );
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

/**
 * The Unix mode in the high half of the external attributes. Zips made on Unix say so in `versionMadeBy`; some
 * tools that do not still store a mode there, recognisable by its file-type bits.
 */
function unixModeOf(entry: yauzl.Entry): number {
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  if (entry.versionMadeBy >> 8 === MADE_BY_UNIX) return mode;
  const type = mode & S_IFMT;
  return type === S_IFREG || type === S_IFDIR || type === S_IFLNK ? mode : 0;
}

function tooLarge(zipPath: string, entry: string, maxBytes: number): UnsafeArchiveError {
  return new UnsafeArchiveError(
    `${basename(zipPath)} unzips to more than the ${maxBytes} bytes allowed (at entry ${JSON.stringify(entry)})`,
  );
}

async function readAll(stream: Readable, limit: number, entry: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      throw new UnsafeArchiveError(
        `symlink ${JSON.stringify(entry)} has a target longer than ${limit} bytes`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Streams one entry to a new file, counting real bytes (declared sizes can lie). Returns the byte count. */
async function writeEntry(
  openStream: () => Promise<Readable>,
  dest: string,
  mode: number,
  budget: number,
  entryName: string,
  onTooLarge: () => Error,
): Promise<number> {
  // O_EXCL: never follow or reuse whatever is already at dest; a duplicate entry replaces a plain file only.
  const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
  const fh = await open(dest, flags, 0o600).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
    await rm(dest);
    return open(dest, flags, 0o600);
  });
  let written = 0;
  try {
    const stream = await openStream();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > budget) {
        stream.destroy();
        throw onTooLarge();
      }
      await fh.write(chunk);
    }
    await fh.chmod(mode);
  } catch (err) {
    if (err instanceof UnsafeArchiveError) throw err;
    const message = (err as Error).message;
    // yauzl's own check that an entry does not inflate past its declared size (a lying zip bomb).
    if (/too many bytes|too few bytes|invalid|size mismatch/i.test(message)) {
      throw new UnsafeArchiveError(`entry ${JSON.stringify(entryName)}: ${message}`, { cause: err });
    }
    throw err;
  } finally {
    await fh.close();
  }
  return written;
}
