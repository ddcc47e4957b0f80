// Streams a presigned code or layer URL to a file, hashing as it goes, and refuses bytes whose SHA-256 differs.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type ClientRequest, get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type NetworkTimeouts, networkTimeouts } from '../../lib/aws-config.js';
import { isTransient, withRetries } from '../../lib/retry.js';
import { ChecksumMismatchError, FunctionPrepareError, RunnerError } from '../errors.js';
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

export interface DownloadDeps {
  /** What is being downloaded, for messages: `code of my-fn`, `layer my-layer:3`. */
  label: string;
  /** Base64 SHA-256 Lambda reported (CodeSha256). */
  sha256Base64: string;
  /**
   * Size Lambda reported (CodeSize): progress when the server sends no Content-Length, and a cap: reading
   * stops at the first byte past it (a 188-byte function once read 64 MiB before its checksum was refused).
   */
  expectedSize?: number;
  /** Connect and idle timeouts (default: lib/aws-config.ts's). */
  timeouts?: NetworkTimeouts;
  /** A fresh presigned URL, asked for once when the first one answers 403 (it expired). */
  refreshUrl?: () => Promise<string>;
  log: Logger;
  signal?: AbortSignal;
}

/**
 * Thrown inside for a non-2xx answer; `status` decides whether a fresh URL is worth asking for, and
 * `$metadata` lets lib/retry.ts judge it as it judges an SDK error.
 */
class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  readonly $metadata: { httpStatusCode: number };
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.$metadata = { httpStatusCode: status };
  }
}

/** Thrown inside when a connection opened too slowly or went silent. */
class DownloadTimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Downloads `url` to `destPath`; on any failure the file is removed. Returns the byte count. */
export async function downloadVerified(url: string, destPath: string, deps: DownloadDeps): Promise<number> {
  try {
    try {
      return await downloadRetrying(url, destPath, deps);
    } catch (err) {
      if (!(err instanceof HttpStatusError && err.status === 403 && deps.refreshUrl)) throw err;
      deps.log.info(`the download URL for the ${deps.label} expired; asking for a fresh one`);
      return await downloadRetrying(await deps.refreshUrl(), destPath, deps);
    }
  } catch (err) {
    await rm(destPath, { force: true });
    if (err instanceof FunctionPrepareError || deps.signal?.aborted) throw err;
    const why =
      err instanceof HttpStatusError ? `the server answered ${err.message}` : (err as Error).message;
    throw new FunctionPrepareError(`could not download the ${deps.label}: ${why}`, { cause: err });
  }
}

/** A server error, throttling, a timeout or a lost connection may pass on a second try; a 4xx or a bad checksum will not. */
function worthRetrying(err: unknown): boolean {
  return !(err instanceof RunnerError) && isTransient(err);
}

function downloadRetrying(url: string, destPath: string, deps: DownloadDeps): Promise<number> {
  return withRetries(() => downloadOnce(url, destPath, deps), {
    attempts: DOWNLOAD_ATTEMPTS,
    baseDelayMs: RETRY_DELAY_MS,
    retryable: worthRetrying,
    ...(deps.signal ? { signal: deps.signal } : {}),
    onRetry(err) {
      const why =
        err instanceof HttpStatusError ? `the server answered ${err.message}` : (err as Error).message;
      deps.log.info(`the download of the ${deps.label} failed (${why}); trying again`);
    },
  });
}

async function downloadOnce(url: string, destPath: string, deps: DownloadDeps): Promise<number> {
  const res = await request(url, deps.signal, deps.timeouts ?? networkTimeouts());
  if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) {
    res.resume();
    throw new HttpStatusError(res.statusCode ?? 0);
  }
  const cap = deps.expectedSize;
  const declared = Number(res.headers['content-length']);
  if (cap !== undefined && declared > cap) {
    res.destroy();
    throw tooLarge(deps, cap, `the server announced ${declared} bytes`);
  }
  const hash = createHash('sha256');
  const total = declared || deps.expectedSize || 0;
  let bytes = 0;
  let nextMark = 0.25;
  const meter = new Transform({
    // Large buffers on both sides so the socket is not paused after every chunk while the disk catches up.
    highWaterMark: WRITE_BUFFER,
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (cap !== undefined && bytes > cap) {
        cb(tooLarge(deps, cap, `stopped after ${bytes} bytes`));
        return;
      }
      hash.update(chunk);
      if (total > PROGRESS_THRESHOLD && bytes / total >= nextMark) {
        deps.log.info(`downloading the ${deps.label}: ${Math.floor((bytes / total) * 100)}% of ${mb(total)}`);
        while (bytes / total >= nextMark) nextMark += 0.25;
      }
      cb(null, chunk);
    },
  });
  await pipeline(
    res,
    meter,
    createWriteStream(destPath, { highWaterMark: WRITE_BUFFER }),
    deps.signal ? { signal: deps.signal } : {},
  );
  const actual = hash.digest('base64');
  if (actual !== deps.sha256Base64) {
    throw new ChecksumMismatchError(
      `the ${deps.label} does not match its checksum: SHA-256 is ${actual}, Lambda reported ${deps.sha256Base64}`,
    );
  }
  return bytes;
}

function tooLarge(deps: DownloadDeps, cap: number, what: string): ChecksumMismatchError {
  return new ChecksumMismatchError(
    `the ${deps.label} is larger than the ${cap} bytes Lambda reported (CodeSize): ${what}`,
  );
}

/**
 * GETs `url`; the socket's idle timer covers connecting, waiting for the answer and every pause in its body,
 * and a separate timer the connection itself, so a server that never answers or stops mid-body fails with a
 * TimeoutError (retried like a cut connection).
 */
function request(url: string, signal: AbortSignal | undefined, t: NetworkTimeouts): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    let res: IncomingMessage | undefined;
    const req: ClientRequest = get(url, { timeout: t.idleMs, ...(signal ? { signal } : {}) }, (r) => {
      res = r;
      resolve(r);
    });
    const fail = (message: string) => {
      const err = new DownloadTimeoutError(message);
      res?.destroy(err);
      req.destroy(err);
    };
    const connectTimer = setTimeout(() => fail(`no connection after ${t.connectMs} ms`), t.connectMs);
    req.once('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.once('close', () => clearTimeout(connectTimer));
    req.on('timeout', () => fail(`no data for ${t.idleMs} ms`));
    req.on('error', reject);
  });
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
