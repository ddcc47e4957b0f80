// Output URLs → where the result goes; a result is committed only after the invocation succeeded.
import { createReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Env } from '../../lib/env.js';
import { loadAws } from '../aws-module.js';
import { PayloadIOError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Compat } from '../options.js';
import { fileUrlPath } from './source.js';

export type OutputTarget = { kind: 'stdout' } | { kind: 'file'; path: string } | { kind: 's3'; url: string };

/** DESIGN.md's default: the payload URL itself (compat: `.json` → `_out.json`); stdout for `data:` and `-`. */
export function defaultOutputUrl(payloadUrl: string, compat?: Compat): string {
  if (payloadUrl === '-' || payloadUrl.startsWith('data:')) return '-';
  if (!compat) return payloadUrl;
  return /\.json$/.test(payloadUrl) ? payloadUrl.replace(/\.json$/, '_out.json') : `${payloadUrl}_out.json`;
}

export function parseOutputUrl(url: string, cwd: string): OutputTarget {
  if (url === '-') return { kind: 'stdout' };
  if (url.startsWith('s3://')) return { kind: 's3', url };
  if (url.startsWith('file:')) return { kind: 'file', path: fileUrlPath(url) };
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) {
    throw new UsageError(`unsupported output URL ${url.slice(0, 40)} (use s3://, file://, a path or -)`);
  }
  return { kind: 'file', path: isAbsolute(url) ? url : resolve(cwd, url) };
}

export interface ResultSlot {
  /** Where the runtime's response is streamed to. */
  resultPath: string;
  /**
   * Moves the finished result to the target; returns a human description of where it went. `crc32` is the
   * result's checksum when the Runtime API computed it on the way in (sent with an S3 upload).
   */
  commit(stored?: { crc32?: number }): Promise<string>;
  /** Removes a result that must not be committed. */
  discard(): Promise<void>;
}

export interface SlotDeps {
  workDir: string;
  stdout: Writable;
  log: Logger;
  env: Env;
  signal?: AbortSignal;
}

/** Checks the target can take a result (before the function runs) and picks where the result lands first. */
export async function prepareResultSlot(target: OutputTarget, deps: SlotDeps): Promise<ResultSlot> {
  const inWorkDir = join(deps.workDir, 'result.json');
  const discard = (path: string) => () => rm(path, { force: true });
  switch (target.kind) {
    case 'file': {
      const dir = dirname(target.path);
      const s = await stat(dir).catch(() => undefined);
      if (!s?.isDirectory())
        throw new PayloadIOError(`cannot write the result to ${target.path}: no folder ${dir}`);
      // Same folder as the target, so the final rename is atomic and a failure leaves the target untouched.
      const tmp = join(dir, `.${basename(target.path)}.${process.pid}-${Date.now()}.run-lambda.tmp`);
      return {
        resultPath: tmp,
        async commit() {
          await rename(tmp, target.path).catch((err: unknown) => {
            throw new PayloadIOError(`cannot write the result to ${target.path}: ${(err as Error).message}`, {
              cause: err,
            });
          });
          return target.path;
        },
        discard: discard(tmp),
      };
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
            ...(stored?.crc32 === undefined ? {} : { crc32: stored.crc32 }),
          });
          return target.url;
        },
        discard: discard(inWorkDir),
      };
  }
}
