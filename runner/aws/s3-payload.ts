// Payloads and results on S3: streamed download to a file, upload from a file (multipart when large).
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Env } from '../../lib/env.js';
import { parseS3Url, type S3Location } from '../../lib/s3-url.js';
import { PayloadIOError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { s3Client } from './clients.js';
import { WRITE_BUFFER } from './download.js';

/**
 * Results up to this size go in one PutObject; larger ones as a multipart upload. One request is what curl
 * would do: a 20 MB result took 696 ms as CreateMultipartUpload + 2 parts + Complete against curl's 377 ms.
 */
export const MULTIPART_THRESHOLD = 32 * 1024 * 1024;
/** lib-storage holds up to queueSize parts in memory: 2 × 32 MiB, as much as 4 × 16 MiB did before. */
const PART_SIZE = 32 * 1024 * 1024;
const PART_QUEUE = 2;
const PROGRESS_THRESHOLD = 10 * 1024 * 1024;

export interface S3IOOptions {
  log: Logger;
  env: Env;
  signal?: AbortSignal;
}

function locate(url: string): S3Location {
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

/** Streams `s3://bucket/key` to `destPath`. */
export async function downloadS3Payload(
  url: string,
  destPath: string,
  opts: S3IOOptions,
): Promise<{ bytes: number }> {
  const loc = locate(url);
  const s3 = s3Client(opts.env);
  for (let attempt = 1; ; attempt++) {
    try {
      return await readOnce(s3, loc, destPath, opts);
    } catch (err) {
      if (err instanceof BodyCutError && attempt < BODY_ATTEMPTS && !opts.signal?.aborted) {
        opts.log.info(`reading the payload ${url} failed (${(err.cause as Error)?.message}); trying again`);
        continue;
      }
      await rm(destPath, { force: true });
      throw payloadError('read', loc, err instanceof BodyCutError ? err.cause : err);
    }
  }
}

async function readOnce(
  s3: ReturnType<typeof s3Client>,
  loc: S3Location,
  destPath: string,
  opts: S3IOOptions,
): Promise<{ bytes: number }> {
  const signal = opts.signal ? { abortSignal: opts.signal } : {};
  const out = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }), signal);
  const body = out.Body as Readable | undefined;
  if (!body) throw new Error('the object has no body');
  const total = out.ContentLength ?? 0;
  let bytes = 0;
  let nextMark = 0.25;
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (total > PROGRESS_THRESHOLD && bytes / total >= nextMark) {
      opts.log.info(`downloading the payload: ${Math.floor((bytes / total) * 100)}% of ${mb(total)}`);
      while (bytes / total >= nextMark) nextMark += 0.25;
    }
  });
  try {
    await pipeline(
      body,
      createWriteStream(destPath, { highWaterMark: WRITE_BUFFER }),
      opts.signal ? { signal: opts.signal } : {},
    );
  } catch (err) {
    // Our own disk failing is not worth a second read.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'EDQUOT') throw err;
    throw new BodyCutError('the payload body was cut', { cause: err });
  }
  return { bytes };
}

export interface UploadOptions extends S3IOOptions {
  /** CRC-32 of the file, when already known (the Runtime API computes it as the result arrives). */
  crc32?: number;
}

/** Tries of a single PutObject: it is sent from a file stream, which the SDK cannot resend, so we retry it. */
export const PUT_ATTEMPTS = 3;
const PUT_RETRY_DELAY_MS = 200;

/**
 * Writes the file at `srcPath` to `s3://bucket/key`. Up to MULTIPART_THRESHOLD it is one PutObject streamed
 * from the file (memory stays flat) with its CRC-32 in the request, so the SDK neither buffers nor re-reads
 * it; larger results go in parts, each retried by the SDK.
 */
export async function uploadS3Result(url: string, srcPath: string, opts: UploadOptions): Promise<void> {
  const loc = locate(url);
  const s3 = s3Client(opts.env);
  try {
    const { size } = await stat(srcPath);
    const common = { Bucket: loc.bucket, Key: loc.key, ContentType: 'application/json' };
    if (size <= MULTIPART_THRESHOLD) {
      const crc = opts.crc32 ?? (await fileCrc32(srcPath));
      await putRetrying(
        s3,
        { ...common, ContentLength: size, ChecksumCRC32: crc32Base64(crc) },
        srcPath,
        opts,
      );
      return;
    }
    opts.log.info(`uploading the result (${mb(size)}) in parts to ${url}`);
    const upload = new Upload({
      client: s3,
      params: { ...common, Body: createReadStream(srcPath) },
      partSize: PART_SIZE,
      queueSize: PART_QUEUE,
      leavePartsOnError: false,
    });
    opts.signal?.addEventListener('abort', () => void upload.abort(), { once: true });
    await upload.done();
  } catch (err) {
    throw payloadError('write', loc, err);
  }
}

async function putRetrying(
  s3: ReturnType<typeof s3Client>,
  input: Omit<PutObjectCommandInput, 'Body'>,
  srcPath: string,
  opts: UploadOptions,
): Promise<void> {
  const signal = opts.signal ? { abortSignal: opts.signal } : {};
  for (let attempt = 1; ; attempt++) {
    try {
      const Body = createReadStream(srcPath, { highWaterMark: READ_CHUNK });
      await s3.send(new PutObjectCommand({ ...input, Body }), signal);
      return;
    } catch (err) {
      if (attempt >= PUT_ATTEMPTS || opts.signal?.aborted || !transient(err)) throw err;
      opts.log.info(`writing the result failed (${(err as Error).message}); trying again`);
      await sleep(
        PUT_RETRY_DELAY_MS * 2 ** (attempt - 1),
        undefined,
        opts.signal ? { signal: opts.signal } : {},
      );
    }
  }
}

const TRANSIENT_CODES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'Throttling',
  'ThrottlingException',
]);

/** What the SDK itself would retry: 5xx, throttling, a connection lost or timed out (not our own file failing). */
function transient(err: unknown): boolean {
  const e = err as {
    name?: string;
    path?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e.$metadata?.httpStatusCode;
  if (e.$retryable || TRANSIENT_CODES.has(e.name ?? '')) return true;
  if (status !== undefined) return status >= 500 || status === 429;
  return typeof e.path !== 'string';
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

const WHY: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist',
  NoSuchKey: 'the object does not exist',
  NotFound: 'the object does not exist',
  AccessDenied: 'access denied (the job role needs s3:GetObject / s3:PutObject on it)',
  Forbidden: 'access denied (the job role needs s3:GetObject / s3:PutObject on it)',
};

function payloadError(op: 'read' | 'write', loc: S3Location, err: unknown): PayloadIOError {
  const e = err as { name?: string; message?: string; Code?: string };
  const code = e.Code ?? e.name ?? 'Error';
  const why = WHY[code] ?? `${code}: ${e.message ?? String(err)}`;
  const what = op === 'read' ? 'read the payload' : 'write the result to';
  return new PayloadIOError(`could not ${what} s3://${loc.bucket}/${loc.key}: ${why}`, { cause: err });
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
