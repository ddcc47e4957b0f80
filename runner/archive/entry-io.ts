// Reading and writing single zip entries: mode bits, symlink targets, file contents with a byte budget.
import { constants as fsc } from 'node:fs';
import { type FileHandle, open, rm, symlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32, inflateRaw, inflateRawSync } from 'node:zlib';
import type yauzl from 'yauzl';
import { UnsafeArchiveError } from '../errors.js';

export const S_IFMT = 0o170000;
export const S_IFLNK = 0o120000;
export const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const MADE_BY_UNIX = 3;

/**
 * The Unix mode in the high half of the external attributes. Zips made on Unix say so in `versionMadeBy`; some
 * tools that do not still store a mode there, recognisable by its file-type bits.
 */
export function unixModeOf(entry: yauzl.Entry): number {
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  if (entry.versionMadeBy >> 8 === MADE_BY_UNIX) return mode;
  const type = mode & S_IFMT;
  return type === S_IFREG || type === S_IFDIR || type === S_IFLNK ? mode : 0;
}

/** An entry's content: a buffer for small entries of an archive held in memory, else a stream. */
export type EntryContent = Buffer | Readable;

/** Entries up to this size (of an archive in memory) are inflated in one call rather than through a stream. */
export const SMALL_ENTRY = 1024 * 1024;
/**
 * Larger entries of an archive in memory are still inflated in one call, on the thread pool, while the
 * entries being inflated that way hold at most this many bytes in all (so memory stays bounded); past it they
 * are streamed. A stream is one thread-pool round trip and a copy per 16 KiB: 30 MB of code took 0.45 s
 * against unzip's 0.17 s, the CPU profile mostly idle.
 */
export const WHOLE_ENTRY_BUDGET = 64 * 1024 * 1024;
/** Below this an inflate is cheaper done at once on the main thread than handed to the thread pool. */
const SYNC_INFLATE_MAX = 64 * 1024;

const inflateRawAsync = promisify(inflateRaw) as (
  buf: Buffer,
  opts: { maxOutputLength: number },
) => Promise<Buffer>;

/**
 * Inflates an entry straight from the archive bytes. zlib streams cost a context and a thread-pool round
 * trip per entry, which dominates for layers of thousands of small files. Size and CRC-32 are checked here,
 * and inflation stops at the declared size, so a lying zip bomb is refused without being inflated.
 */
export async function inflateSmall(
  zip: yauzl.ZipFile,
  archive: Buffer,
  entry: yauzl.Entry,
  name: string,
): Promise<Buffer> {
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
  const raw = archive.subarray(fileDataStart, fileDataStart + entry.compressedSize);
  const declared = entry.uncompressedSize;
  let data: Buffer;
  if (entry.compressionMethod === 0) data = raw;
  else if (entry.compressionMethod === 8) {
    try {
      // One output chunk of the declared size: zlib's default 16 KiB chunks are gathered and copied again.
      const opts = { maxOutputLength: Math.max(1, declared), chunkSize: Math.max(64, declared) };
      data = raw.length <= SYNC_INFLATE_MAX ? inflateRawSync(raw, opts) : await inflateRawAsync(raw, opts);
    } catch (err) {
      throw new UnsafeArchiveError(
        `entry ${JSON.stringify(name)} is corrupt or unzips to more than its declared ${declared} bytes`,
        { cause: err },
      );
    }
  } else {
    throw new UnsafeArchiveError(
      `entry ${JSON.stringify(name)} uses unsupported compression method ${entry.compressionMethod}`,
    );
  }
  if (data.length !== declared || crc32(data) !== entry.crc32) {
    throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} does not match its declared size and CRC-32`);
  }
  return data;
}

/** A symlink's target is its entry's content; anything longer than PATH_MAX is not a real link. */
const MAX_LINK_BYTES = 4096;

/**
 * Makes the symlink an entry describes and returns its target. Absolute targets are refused here; relative
 * ones are checked once the whole archive is out (a link can point through another one made later).
 */
export async function makeSymlink(content: EntryContent, dest: string, name: string): Promise<string> {
  const target = (await readAll(content, MAX_LINK_BYTES, name)).toString('utf8');
  if (target === '' || target.startsWith('/') || target.includes('\0')) {
    throw new UnsafeArchiveError(`symlink ${JSON.stringify(name)} points outside the archive: ${target}`);
  }
  await symlink(target, dest).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
    throw new UnsafeArchiveError(`symlink ${JSON.stringify(name)} would replace an earlier entry`);
  });
  return target;
}

/**
 * The content's chunks as they come (a buffer whole, in one); past `limit` bytes in all (declared sizes can lie), the
 * stream is destroyed and `tooLarge()` thrown.
 */
async function* chunksWithin(
  content: EntryContent,
  limit: number,
  tooLarge: () => Error,
): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(content)) {
    if (content.length > limit) throw tooLarge();
    yield content;
    return;
  }
  let size = 0;
  for await (const chunk of content as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      content.destroy();
      throw tooLarge();
    }
    yield chunk;
  }
}

async function readAll(content: EntryContent, limit: number, entry: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const tooLong = () =>
    new UnsafeArchiveError(`symlink ${JSON.stringify(entry)} has a target longer than ${limit} bytes`);
  for await (const chunk of chunksWithin(content, limit, tooLong)) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

const WRITE_BATCH = 1024 * 1024;

/**
 * FileHandle.write may write less than asked: a disk that fills up takes what fits, and only the next write
 * fails with ENOSPC. Without the loop the rest of the entry is silently lost.
 */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten === 0)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    off += bytesWritten;
  }
}

/** Streams one entry to a new file, counting real bytes (declared sizes can lie). Returns the byte count. */
export async function writeEntry(
  openContent: () => Promise<EntryContent>,
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
    // Inflate streams yield 16 KiB chunks; one write per chunk leaves the disk idle between them, so
    // chunks are gathered into writes of about 1 MiB.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      await writeAll(fh, pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
    };
    for await (const chunk of chunksWithin(await openContent(), budget, onTooLarge)) {
      written += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BATCH) await flush();
    }
    if (pendingBytes > 0) await flush();
    await fh.chmod(mode);
  } catch (err) {
    if (err instanceof UnsafeArchiveError) throw err;
    const message = (err as Error).message;
    // yauzl's own check that an entry does not inflate past its declared size (a lying zip bomb).
    if (/too many bytes|not enough bytes|invalid|size mismatch/i.test(message)) {
      throw new UnsafeArchiveError(`entry ${JSON.stringify(entryName)}: ${message}`, { cause: err });
    }
    throw err;
  } finally {
    await fh.close();
  }
  return written;
}
