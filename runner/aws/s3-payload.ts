// Payloads and results on S3: streamed download to a file, upload from a file (multipart when large).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { NetworkTimeouts } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { isTransient, withRetries } from '../../lib/retry.js';
import { parseS3Url, type S3Location } from '../../lib/s3-url.js';
import { PayloadAccessError, PayloadIOError, type RunnerError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { WRITE_BUFFER } from './download.js';
import { s3Client } from './sdk-clients.js';

/**
 * Results up to this size go in one PutObject; larger ones as a multipart upload. One request is what curl
 * would do: a 20 MB result took 696 ms as CreateMultipartUpload + 2 parts + Complete against curl's 377 ms.
 */
export const MULTIPART_THRESHOLD = 32 * 1024 * 1024;
/** lib-storage holds up to queueSize parts in memory: 2 × 32 MiB, as much as 4 × 16 MiB did before. */
const PART_SIZE = 32 * 1024 * 1024;
const PART_QUEUE = 2;
const PROGRESS_THRESHOLD = 10 * 1024 * 1024;

export interface S3Deps {
  log: Logger;
  env: Env;
  signal?: AbortSignal;
  /** Connect and idle timeouts of the S3 client (default: lib/aws-config.ts's). */
  timeouts?: NetworkTimeouts;
}

export function locate(url: string): S3Location {
  try {
    return parseS3Url(url);
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
}

/**
 * Reads of a payload body: the SDK retries a request until its answer's headers arrive, but not a connection
 * lost mid-body, so that is retried here (from the start: the file is rewritten whole).
 */
export const BODY_ATTEMPTS = 3;

/** Thrown inside when the body stream failed after GetObject itself succeeded. */
class BodyCutError extends Error {
  override name = 'BodyCutError';
}

export interface DownloadDeps extends S3Deps {
  /**
   * An object of at most this many bytes is kept in memory (returned as `body`) rather than written to `destPath`:
   * an item's event, where the file's write, read and removal cost more than its bytes.
   */
  inMemoryUpTo?: number;
}

export interface Downloaded {
  bytes: number;
  /** hex */
  sha256: string;
  /** The payload itself when it was kept in memory (no file at `destPath`). */
  body?: Buffer;
}

/** Streams `s3://bucket/key` to `destPath` (or memory); returns its size and SHA-256 (hex), hashed as it arrived. */
export async function downloadS3Payload(
  url: string,
  destPath: string,
  deps: DownloadDeps,
): Promise<Downloaded> {
  const loc = locate(url);
  const s3 = s3Client(deps.env, deps.timeouts);
  try {
    return await withRetries(() => readOnce(s3, loc, destPath, deps), {
      attempts: BODY_ATTEMPTS,
      baseDelayMs: 0,
      // The SDK retried the request itself; a body cut after its answer is ours to read again.
      retryable: (err) => err instanceof BodyCutError,
      ...(deps.signal ? { signal: deps.signal } : {}),
      onRetry: (err) =>
        deps.log.info(
          `reading the payload ${url} failed (${((err as Error).cause as Error)?.message}); trying again`,
        ),
    });
  } catch (err) {
    await rm(destPath, { force: true });
    throw payloadError('read', loc, err instanceof BodyCutError ? err.cause : err);
  }
}

async function readOnce(
  s3: ReturnType<typeof s3Client>,
  loc: S3Location,
  destPath: string,
  deps: DownloadDeps,
): Promise<Downloaded> {
  const signal = deps.signal ? { abortSignal: deps.signal } : {};
  const out = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }), signal);
  const body = out.Body as Readable | undefined;
  if (!body) throw new Error('the object has no body');
  const total = out.ContentLength ?? 0;
  if (out.ContentLength !== undefined && total <= (deps.inMemoryUpTo ?? -1)) return readToMemory(body, deps);
  let bytes = 0;
  let nextMark = 0.25;
  // Each attempt rewrites the file whole, so each hashes from the start.
  const sha = createHash('sha256');
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    sha.update(chunk);
    if (total > PROGRESS_THRESHOLD && bytes / total >= nextMark) {
      deps.log.info(`downloading the payload: ${Math.floor((bytes / total) * 100)}% of ${mb(total)}`);
      while (bytes / total >= nextMark) nextMark += 0.25;
    }
  });
  try {
    await pipeline(
      body,
      createWriteStream(destPath, { highWaterMark: WRITE_BUFFER }),
      deps.signal ? { signal: deps.signal } : {},
    );
  } catch (err) {
    // Our own disk failing is not worth a second read.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'EDQUOT') throw err;
    throw new BodyCutError('the payload body was cut', { cause: err });
  }
  return { bytes, sha256: sha.digest('hex') };
}

/** A small payload's body into memory, hashed as it arrives; a body cut on the way is read again (BodyCutError). */
async function readToMemory(body: Readable, deps: S3Deps): Promise<Downloaded> {
  const sha = createHash('sha256');
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    await pipeline(
      body,
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          chunks.push(chunk);
          bytes += chunk.length;
          sha.update(chunk);
        }
      },
      deps.signal ? { signal: deps.signal } : {},
    );
  } catch (err) {
    throw new BodyCutError('the payload body was cut', { cause: err });
  }
  return { bytes, sha256: sha.digest('hex'), body: Buffer.concat(chunks, bytes) };
}

export interface UploadDeps extends S3Deps {
  /** CRC-32 of the file, when already known (the Runtime API computes it as the result arrives). */
  crc32?: number;
  /** The result itself, when it was kept in memory: sent from there, and there is no file at `srcPath`. */
  body?: Buffer;
}

/** Tries of a single PutObject: it is sent from a file stream, which the SDK cannot resend, so we retry it. */
export const PUT_ATTEMPTS = 3;
const PUT_RETRY_DELAY_MS = 200;

/**
 * Writes the file at `srcPath` (or `deps.body`, a result kept in memory) to `s3://bucket/key`. Up to
 * MULTIPART_THRESHOLD it is one PutObject streamed from the file (memory stays flat) with its CRC-32 in the request,
 * so the SDK neither buffers nor re-reads it; larger results go in parts, each retried by the SDK.
 */
export async function uploadS3Result(url: string, srcPath: string, deps: UploadDeps): Promise<void> {
  const loc = locate(url);
  const s3 = s3Client(deps.env, deps.timeouts);
  try {
    const size = deps.body?.length ?? (await stat(srcPath)).size;
    const common = { Bucket: loc.bucket, Key: loc.key, ContentType: 'application/json' };
    if (size <= MULTIPART_THRESHOLD) {
      const crc = deps.crc32 ?? (deps.body ? crc32(deps.body) : await fileCrc32(srcPath));
      await putRetrying(
        s3,
        { ...common, ContentLength: size, ChecksumCRC32: crc32Base64(crc) },
        srcPath,
        deps,
      );
      return;
    }
    deps.log.info(`uploading the result (${mb(size)}) in parts to ${url}`);
    const upload = new Upload({
      client: s3,
      params: { ...common, Body: deps.body ?? createReadStream(srcPath) },
      partSize: PART_SIZE,
      queueSize: PART_QUEUE,
      leavePartsOnError: false,
    });
    deps.signal?.addEventListener('abort', () => void upload.abort(), { once: true });
    await upload.done();
  } catch (err) {
    throw payloadError('write', loc, err);
  }
}

function putRetrying(
  s3: ReturnType<typeof s3Client>,
  input: Omit<PutObjectCommandInput, 'Body'>,
  srcPath: string,
  deps: UploadDeps,
): Promise<void> {
  const signal = deps.signal ? { abortSignal: deps.signal } : {};
  return withRetries(
    async () => {
      const Body = deps.body ?? createReadStream(srcPath, { highWaterMark: READ_CHUNK });
      await s3.send(new PutObjectCommand({ ...input, Body }), signal);
    },
    {
      attempts: PUT_ATTEMPTS,
      baseDelayMs: PUT_RETRY_DELAY_MS,
      retryable: isTransient,
      ...(deps.signal ? { signal: deps.signal } : {}),
      onRetry: (err) => deps.log.info(`writing the result failed (${(err as Error).message}); trying again`),
    },
  );
}

const READ_CHUNK = 1024 * 1024;

async function fileCrc32(path: string): Promise<number> {
  let crc = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK }))
    crc = crc32(chunk as Buffer, crc);
  return crc;
}

function crc32Base64(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString('base64');
}

const DENIED = 'access denied (the job role needs s3:GetObject / s3:PutObject on it)';

/** Answers a retry would get again: the object or bucket is not there, or the job may not use it (exit 2). */
const PERMANENT: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist',
  NoSuchKey: 'the object does not exist',
  NotFound: 'the object does not exist',
  AccessDenied: DENIED,
  Forbidden: DENIED,
  AllAccessDisabled: DENIED,
};

/**
 * A failed read or write as the run's error: PayloadAccessError (exit 2) when permanent, else PayloadIOError (exit 4).
 * `what` words it ("write the run record to"); by default the payload's read or the result's write.
 */
export function payloadError(
  op: 'read' | 'write',
  loc: S3Location,
  err: unknown,
  what?: string,
): RunnerError {
  const e = err as { name?: string; message?: string; Code?: string };
  const code = e.Code ?? e.name ?? 'Error';
  what ??= op === 'read' ? 'read the payload' : 'write the result to';
  const where = `s3://${loc.bucket}/${loc.key}`;
  const permanent = PERMANENT[code];
  if (permanent) return new PayloadAccessError(`could not ${what} ${where}: ${permanent}`, { cause: err });
  return new PayloadIOError(`could not ${what} ${where}: ${code}: ${e.message ?? String(err)}`, {
    cause: err,
  });
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
