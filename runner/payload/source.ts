// Payload URLs → a local file the runtime reads the event from: files in place, data:/stdin/s3 to a temp file.
import { createWriteStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { NetworkTimeouts } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { loadAws } from '../aws-module.js';
import { PayloadAccessError, PayloadIOError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { digestOf, digestTap, type PayloadDigest } from './digest.js';

export type PayloadSource =
  | { kind: 'file'; path: string }
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'stdin' }
  | { kind: 's3'; url: string };

/** Classifies a payload URL; throws UsageError for schemes the runner does not read. */
export function parsePayloadUrl(url: string, cwd: string): PayloadSource {
  if (url === '-') return { kind: 'stdin' };
  if (url.startsWith('s3://')) return s3Place(url, 'payload');
  if (url.startsWith('data:')) return { kind: 'data', bytes: decodeDataUrl(url) };
  if (!url.startsWith('file:') && /^[a-z][a-z0-9+.-]+:\/\//i.test(url)) {
    throw new UsageError(`unsupported payload URL scheme in ${url} (use s3://, file://, data:, a path or -)`);
  }
  return filePlace(url, cwd);
}

/** An `s3://bucket/key` URL, checked: UsageError `bad <what> URL: …` when it is not one. */
export function s3Place(url: string, what: string): { kind: 's3'; url: string } {
  try {
    parseS3Url(url);
  } catch (err) {
    throw new UsageError(`bad ${what} URL: ${(err as Error).message}`, { cause: err });
  }
  return { kind: 's3', url };
}

/** A `file:` URL or a path (relative to `cwd`), as an absolute path. */
export function filePlace(url: string, cwd: string): { kind: 'file'; path: string } {
  if (url.startsWith('file:')) return { kind: 'file', path: fileUrlPath(url) };
  return { kind: 'file', path: isAbsolute(url) ? url : resolve(cwd, url) };
}

export function fileUrlPath(url: string): string {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (err) {
    throw new UsageError(`bad file URL ${url}: ${(err as Error).message}`, { cause: err });
  }
  // No file name holds a NUL; the fs calls would throw a raw TypeError quoting it.
  if (path.includes('\0')) throw new UsageError(`bad file URL ${url}: the path contains a NUL byte (%00)`);
  return path;
}

/** `data:[<type>][;base64],<data>`: base64 or percent-encoded. */
export function decodeDataUrl(url: string): Buffer {
  const comma = url.indexOf(',');
  if (comma === -1) throw new UsageError('bad data: URL (no comma before the data)');
  const meta = url.slice(5, comma);
  const data = url.slice(comma + 1);
  if (/;base64$/i.test(meta)) {
    if (!/^[A-Za-z0-9+/_-]*=*$/.test(data)) throw new UsageError('bad data: URL (invalid base64)');
    return Buffer.from(data, 'base64');
  }
  try {
    return Buffer.from(decodeURIComponent(data), 'utf8');
  } catch (err) {
    throw new UsageError('bad data: URL (invalid percent-encoding)', { cause: err });
  }
}

export interface PayloadFile {
  /** Where the event is (or will be, once `ready` resolves). */
  path: string;
  /** Resolves when the whole payload is on disk; rejects with PayloadIOError. */
  ready: Promise<void>;
  /** Its size and SHA-256, once a stream has seen all of it (the download, or the event sent to the runtime). */
  digest?: PayloadDigest;
  /** The payload itself, once `ready`, when it was small enough to keep in memory (`inMemoryUpTo`): no file at `path`. */
  body?: Buffer;
}

export interface FetchPayloadDeps {
  workDir: string;
  stdin: () => Readable;
  log: Logger;
  env: Env;
  signal?: AbortSignal;
  timeouts?: NetworkTimeouts;
  /** Where a payload that is not a local file lands (default `<workDir>/payload.json`). */
  path?: string;
  /** An S3 payload of at most this many bytes is kept in memory (`bytes`), not written to `path`. */
  inMemoryUpTo?: number;
}

/** Starts getting the payload to a local file; the runtime may start before `ready` resolves. */
export function fetchPayload(source: PayloadSource, deps: FetchPayloadDeps): PayloadFile {
  const tmp = deps.path ?? join(deps.workDir, 'payload.json');
  switch (source.kind) {
    case 'file':
      return { path: source.path, ready: checkReadable(source.path) };
    case 'data':
      return {
        path: tmp,
        ready: writeFile(tmp, source.bytes).catch(ioError('write the data: payload')),
        digest: digestOf(source.bytes),
      };
    case 'stdin': {
      const file: PayloadFile = { path: tmp, ready: Promise.resolve() };
      const tap = digestTap((d) => {
        file.digest = d;
      });
      file.ready = pipeline(deps.stdin(), tap, createWriteStream(tmp), { signal: deps.signal }).catch(
        ioError('read the payload from stdin'),
      );
      return file;
    }
    case 's3': {
      const file: PayloadFile = { path: tmp, ready: Promise.resolve() };
      file.ready = downloadS3(source.url, file, deps);
      return file;
    }
  }
}

async function downloadS3(url: string, file: PayloadFile, deps: FetchPayloadDeps): Promise<void> {
  const { downloadS3Payload } = await loadAws(deps.workDir);
  const { bytes, sha256, body } = await downloadS3Payload(url, file.path, {
    log: deps.log,
    env: deps.env,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
    ...(deps.inMemoryUpTo === undefined ? {} : { inMemoryUpTo: deps.inMemoryUpTo }),
  });
  file.digest = { bytes, sha256 };
  if (body) file.body = body;
  deps.log.debug(`payload: ${bytes} bytes from ${url}${body ? ' (kept in memory)' : ''}`);
}

async function checkReadable(path: string): Promise<void> {
  const s = await stat(path).catch(ioError(`read the payload ${path}`));
  if (!s.isFile()) throw new PayloadAccessError(`cannot read the payload ${path}: not a file`);
}

/** Local errors a retry meets again: the file is not there or may not be read (exit 2); the rest exit 4. */
const PERMANENT: Record<string, string> = {
  ENOENT: 'no such file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

export function ioError(what: string) {
  return (err: unknown): never => {
    if (err instanceof PayloadIOError || err instanceof PayloadAccessError) throw err;
    if ((err as Error)?.name === 'AbortError') throw err;
    const code = (err as NodeJS.ErrnoException)?.code ?? '';
    const permanent = PERMANENT[code];
    if (permanent) throw new PayloadAccessError(`cannot ${what}: ${permanent}`, { cause: err });
    throw new PayloadIOError(`cannot ${what}: ${(err as Error)?.message}`, { cause: err });
  };
}
