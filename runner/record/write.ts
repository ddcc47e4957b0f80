// Writes a run record (or an item's error part) in one PutObject or one file write, after the result. A record that
// cannot be written is a warning: it never changes how the run ends.
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { NetworkTimeouts } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { formatRunRecord, type RunRecord } from '../../lib/run-record.js';
import { loadAws } from '../aws-module.js';
import { PayloadAccessError, PayloadIOError } from '../errors.js';
import type { Logger } from '../log.js';

/** Where a record goes: an S3 object or a local file. */
export type RecordPlace = { kind: 's3'; url: string } | { kind: 'file'; path: string };

export interface WriteDeps {
  workDir: string;
  log: Logger;
  env: Env;
  timeouts?: NetworkTimeouts;
}

/**
 * How long a record may take to write once the run was stopped: Batch sends SIGKILL 30 s after its SIGTERM (ECS's
 * default stop timeout), and the record must not hold the job past that.
 */
export const STOPPED_WRITE_MS = 10_000;

/** Writes `text` to `place`; throws the run's error type (exit 2 or 4) naming `what`. */
export async function writePlace(
  place: RecordPlace,
  text: string,
  deps: WriteDeps,
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  if (place.kind === 's3') {
    const { putS3Object } = await loadAws(deps.workDir);
    await putS3Object(
      place.url,
      text,
      {
        log: deps.log,
        env: deps.env,
        ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
        ...(signal ? { signal } : {}),
      },
      `write the ${what} to`,
    );
    return;
  }
  // Beside the target, so the rename is atomic: a reader never sees half a record.
  const tmp = join(dirname(place.path), `.${basename(place.path)}.${process.pid}.run-lambda.tmp`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, place.path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    const e = err as NodeJS.ErrnoException;
    const denied = e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS' || e.code === 'ENOENT';
    const Err = denied ? PayloadAccessError : PayloadIOError;
    throw new Err(`could not write the ${what} to ${place.path}: ${e.message}`, { cause: err });
  }
}

/**
 * The record (built now, by `build`) where it goes; a failure to build or write it is logged as a warning and
 * reported as false, never thrown.
 */
export async function writeRecord(
  place: RecordPlace,
  build: () => RunRecord,
  deps: WriteDeps & { stopped?: boolean },
): Promise<boolean> {
  const where = place.kind === 's3' ? place.url : place.path;
  try {
    const text = formatRunRecord(build());
    await writePlace(
      place,
      text,
      deps,
      'run record',
      deps.stopped ? AbortSignal.timeout(STOPPED_WRITE_MS) : undefined,
    );
    deps.log.debug(`run record written to ${where}`);
    return true;
  } catch (err) {
    deps.log.warn(
      `the run record was not written to ${where} (${(err as Error).message}); the run's exit code stands`,
    );
    return false;
  }
}
