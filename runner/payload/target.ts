// Output URLs → where the result goes; checked before the function runs, committed only after it succeeded.
import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, lstat, realpath, rename, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { NetworkTimeouts } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { outputUrlFor } from '../../lib/s3-url.js';
import { loadAws } from '../aws-module.js';
import { InvalidOutputError, PayloadAccessError, PayloadIOError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { removeFile } from './remove.js';
import { filePlace, type PayloadSource, s3Place } from './source.js';

export type OutputTarget = { kind: 'stdout' } | { kind: 'file'; path: string } | { kind: 's3'; url: string };

/**
 * The default (docs/runner.md "Usage"): beside the payload with `.json` replaced by `_out.json` (what run.py 0.2 did, so a
 * retried attempt finds its input unchanged); stdout for `data:` and `-`.
 */
export function defaultOutputUrl(payloadUrl: string): string {
  if (payloadUrl === '-' || payloadUrl.startsWith('data:')) return '-';
  return outputUrlFor(payloadUrl);
}

export function parseOutputUrl(url: string, cwd: string): OutputTarget {
  if (url === '-') return { kind: 'stdout' };
  if (url.startsWith('s3://')) return s3Place(url, 'output');
  if (!url.startsWith('file:') && /^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) {
    throw new UsageError(`unsupported output URL ${url.slice(0, 40)} (use s3://, file://, a path or -)`);
  }
  return filePlace(url, cwd);
}

/** Refuses an output that is the payload itself: the input is never overwritten (a retry must find it). */
export async function checkNotTheInput(source: PayloadSource, target: OutputTarget): Promise<void> {
  const refuse = (what: string) => {
    throw new InvalidOutputError(
      `the output ${what} is the payload itself; the input is never overwritten (give another <output-url>)`,
    );
  };
  if (source.kind === 's3' && target.kind === 's3' && source.url === target.url) refuse(target.url);
  if (source.kind !== 'file' || target.kind !== 'file') return;
  if (resolve(source.path) === resolve(target.path)) refuse(target.path);
  const [a, b] = await Promise.all([
    stat(source.path).catch(() => undefined),
    stat(target.path).catch(() => undefined),
  ]);
  // The same file under another name: a symlink or a hard link to the payload.
  if (a && b && a.dev === b.dev && a.ino === b.ino) refuse(target.path);
}

export interface ResultSlot {
  /** Where the runtime's response is streamed to. */
  resultPath: string;
  /**
   * Moves the finished result to the target; returns a human description of where it went. `crc32` is the
   * result's checksum when the Runtime API computed it on the way in (sent with an S3 upload); `body` the result
   * itself when it was kept in memory (as `inMemoryUpTo` allows), in place of the file at `resultPath`.
   */
  commit(stored?: { crc32?: number; body?: Buffer }): Promise<string>;
  /** A result of at most this many bytes may be kept in memory and committed from there (S3 targets of items). */
  inMemoryUpTo?: number;
  /** Removes a result that must not be committed. */
  discard(): Promise<void>;
  /**
   * Whether a run record may go beside the target (`.json` → `.run.json`): yes for S3 and regular files; no for
   * stdout, a FIFO or a device (`/dev/null.run.json` would be a new file in /dev).
   */
  recordBeside: boolean;
}

export interface SlotDeps {
  workDir: string;
  stdout: Writable;
  log: Logger;
  env: Env;
  signal?: AbortSignal;
  timeouts?: NetworkTimeouts;
  /** The result's file name in the work folder (an item set's items each have their own). */
  resultName?: string;
  /** An S3 target takes a result of at most this many bytes from memory (`ResultSlot.inMemoryUpTo`). */
  inMemoryUpTo?: number;
}

/** Checks the target can take a result (before the function runs) and picks where the result lands first. */
export async function prepareResultSlot(target: OutputTarget, deps: SlotDeps): Promise<ResultSlot> {
  const inWorkDir = join(deps.workDir, deps.resultName ?? 'result.json');
  const discard = (path: string) => () => removeFile(path);
  switch (target.kind) {
    case 'file': {
      const place = await fileTarget(target.path);
      if (place.kind === 'stream') return streamSlot(inWorkDir, place.path, discard(inWorkDir));
      return renameSlot(place.path, discard, deps.resultName);
    }
    case 'stdout':
      return {
        resultPath: inWorkDir,
        async commit() {
          await pipeline(createReadStream(inWorkDir), deps.stdout, { end: false }).catch((err: unknown) => {
            throw new PayloadIOError(`cannot write the result to stdout: ${(err as Error).message}`, {
              cause: err,
            });
          });
          // On a terminal, end the line so the prompt and the runner's own lines do not run into the JSON;
          // piped or redirected, the bytes are exactly the handler's result.
          if ((deps.stdout as { isTTY?: boolean }).isTTY) deps.stdout.write('\n');
          return 'stdout';
        },
        discard: discard(inWorkDir),
        recordBeside: false,
      };
    case 's3':
      return {
        resultPath: inWorkDir,
        async commit(stored) {
          const { uploadS3Result } = await loadAws(deps.workDir);
          await uploadS3Result(target.url, inWorkDir, {
            log: deps.log,
            env: deps.env,
            ...(deps.signal ? { signal: deps.signal } : {}),
            ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
            ...(stored?.crc32 === undefined ? {} : { crc32: stored.crc32 }),
            ...(stored?.body === undefined ? {} : { body: stored.body }),
          });
          return target.url;
        },
        discard: discard(inWorkDir),
        recordBeside: true,
        ...(deps.inMemoryUpTo === undefined ? {} : { inMemoryUpTo: deps.inMemoryUpTo }),
      };
  }
}

/**
 * How a local output takes the result. A regular file (or none yet) is replaced atomically by a rename from
 * its own folder. What exists and is not a regular file keeps being what it is: a FIFO or a character device
 * (`/dev/null`, `/dev/stdout`, a terminal) is written through, and a symlink is followed to what it names
 * (the link stays). A folder, a block device, a socket, a dangling link or a missing folder is refused here,
 * before the function runs.
 */
async function fileTarget(path: string): Promise<{ kind: 'rename' | 'stream'; path: string }> {
  const s = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw targetError(path, err);
  });
  if (!s) return { kind: 'rename', path: await checkFolder(path) };
  if (s.isSymbolicLink()) {
    const real = await realpath(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        throw new InvalidOutputError(`cannot write the result to ${path}: it is a symlink to nothing`);
      }
      throw targetError(path, err);
    });
    return fileTarget(real);
  }
  if (s.isFile()) return { kind: 'rename', path: await checkFolder(path) };
  if (s.isFIFO() || s.isCharacterDevice()) return { kind: 'stream', path };
  const what = s.isDirectory() ? 'a folder' : s.isBlockDevice() ? 'a block device' : 'a socket';
  throw new InvalidOutputError(`cannot write the result to ${path}: it is ${what}`);
}

/** The target's folder must exist and take a new file; returns the target. */
async function checkFolder(path: string): Promise<string> {
  const dir = dirname(path);
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) throw new InvalidOutputError(`cannot write the result to ${path}: no folder ${dir}`);
  await access(dir, constants.W_OK | constants.X_OK).catch((err: NodeJS.ErrnoException) => {
    throw targetError(path, err);
  });
  return path;
}

function targetError(path: string, err: NodeJS.ErrnoException): Error {
  const denied = err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS';
  const Err = denied ? PayloadAccessError : PayloadIOError;
  return new Err(`cannot write the result to ${path}: ${err.message}`, { cause: err });
}

/** Same folder as the target, so the final rename is atomic and a failure leaves the target untouched. */
function renameSlot(path: string, discard: (p: string) => () => Promise<void>, unique = ''): ResultSlot {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${Date.now()}${unique}.run-lambda.tmp`);
  return {
    recordBeside: true,
    resultPath: tmp,
    async commit() {
      await rename(tmp, path).catch((err: NodeJS.ErrnoException) => {
        throw targetError(path, err);
      });
      return path;
    },
    discard: discard(tmp),
  };
}

/** The result is kept in the work folder and written through the target once the handler returned. */
function streamSlot(resultPath: string, path: string, discard: () => Promise<void>): ResultSlot {
  return {
    recordBeside: false,
    resultPath,
    async commit() {
      await pipeline(createReadStream(resultPath), createWriteStream(path, { flags: 'w' })).catch(
        (err: NodeJS.ErrnoException) => {
          throw targetError(path, err);
        },
      );
      return path;
    },
    discard,
  };
}
