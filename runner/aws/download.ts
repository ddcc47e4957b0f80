// Streams a presigned code or layer URL to a file, hashing as it goes, and refuses bytes whose SHA-256 differs.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChecksumMismatchError, FunctionPrepareError } from '../errors.js';
import type { Logger } from '../log.js';

/** Downloads above this size log progress every 25%. */
export const PROGRESS_THRESHOLD = 10 * 1024 * 1024;
/**
 * Tries per URL. Presigned S3 URLs get no SDK retries, yet S3 answers 500/503 SlowDown now and then and a
 * connection can drop mid-body; each retry starts the file over, since the hash covers the whole body.
 */
export const DOWNLOAD_ATTEMPTS = 3;
const RETRY_DELAY_MS = 200;
/**
 * How much of a download may wait for the disk. With the default 16 KiB every 64 KiB socket chunk pauses the
 * socket until its write returns from the thread pool; 4 MiB lets reading and writing overlap (a 20 MB
 * payload arrived ~70 ms sooner, 362 → 290 ms median) and still bounds the memory a download holds.
 */
export const WRITE_BUFFER = 4 * 1024 * 1024;

export interface DownloadOptions {
  /** What is being downloaded, for messages: `code of my-fn`, `layer my-layer:3`. */
  label: string;
  /** Base64 SHA-256 Lambda reported (CodeSha256). */
  sha256Base64: string;
  /** Size Lambda reported, for progress when the server sends no Content-Length. */
  expectedSize?: number;
  /** A fresh presigned URL, asked for once when the first one answers 403 (it expired). */
  refreshUrl?: () => Promise<string>;
  log: Logger;
  signal?: AbortSignal;
}

/** Thrown inside for a non-2xx answer; `status` decides whether a fresh URL is worth asking for. */
class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** Downloads `url` to `destPath`; on any failure the file is removed. Returns the byte count. */
export async function downloadVerified(
  url: string,
  destPath: string,
  opts: DownloadOptions,
): Promise<number> {
  try {
    try {
      return await downloadRetrying(url, destPath, opts);
    } catch (err) {
      if (!(err instanceof HttpStatusError && err.status === 403 && opts.refreshUrl)) throw err;
      opts.log.info(`the download URL for the ${opts.label} expired; asking for a fresh one`);
      return await downloadRetrying(await opts.refreshUrl(), destPath, opts);
    }
  } catch (err) {
    await rm(destPath, { force: true });
    if (err instanceof FunctionPrepareError || opts.signal?.aborted) throw err;
    const why =
      err instanceof HttpStatusError ? `the server answered ${err.message}` : (err as Error).message;
    throw new FunctionPrepareError(`could not download the ${opts.label}: ${why}`, { cause: err });
  }
}

/** A server error, throttling or a lost connection may pass on a second try; a 4xx or a bad checksum will not. */
function worthRetrying(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 429;
  return !(err instanceof FunctionPrepareError);
}

async function downloadRetrying(url: string, destPath: string, opts: DownloadOptions): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(url, destPath, opts);
    } catch (err) {
      if (attempt >= DOWNLOAD_ATTEMPTS || opts.signal?.aborted || !worthRetrying(err)) throw err;
      const why =
        err instanceof HttpStatusError ? `the server answered ${err.message}` : (err as Error).message;
      opts.log.info(`the download of the ${opts.label} failed (${why}); trying again`);
      await sleep(RETRY_DELAY_MS * 2 ** (attempt - 1), undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}

async function downloadOnce(url: string, destPath: string, opts: DownloadOptions): Promise<number> {
  const res = await request(url, opts.signal);
  if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) {
    res.resume();
    throw new HttpStatusError(res.statusCode ?? 0);
  }
  const hash = createHash('sha256');
  const total = Number(res.headers['content-length']) || opts.expectedSize || 0;
  let bytes = 0;
  let nextMark = 0.25;
  const meter = new Transform({
    // Large buffers on both sides so the socket is not paused after every chunk while the disk catches up.
    highWaterMark: WRITE_BUFFER,
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      if (total > PROGRESS_THRESHOLD && bytes / total >= nextMark) {
        opts.log.info(`downloading the ${opts.label}: ${Math.floor((bytes / total) * 100)}% of ${mb(total)}`);
        while (bytes / total >= nextMark) nextMark += 0.25;
      }
      cb(null, chunk);
    },
  });
  await pipeline(
    res,
    meter,
    createWriteStream(destPath, { highWaterMark: WRITE_BUFFER }),
    opts.signal ? { signal: opts.signal } : {},
  );
  const actual = hash.digest('base64');
  if (actual !== opts.sha256Base64) {
    throw new ChecksumMismatchError(
      `the ${opts.label} does not match its checksum: SHA-256 is ${actual}, Lambda reported ${opts.sha256Base64}`,
    );
  }
  return bytes;
}

function request(url: string, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, signal ? { signal } : {}, resolve);
    req.on('error', reject);
  });
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
