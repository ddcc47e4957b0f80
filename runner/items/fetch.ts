// Gets an item ready while the one before it runs: is its result already there (a retried child skips it), and if not,
// its event on local disk (or in memory, when small), hashed as it arrives.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAws } from '../aws-module.js';
import { removeFile } from '../payload/remove.js';
import { type FetchPayloadDeps, fetchPayload, ioError, type PayloadFile } from '../payload/source.js';
import type { OutputTarget } from '../payload/target.js';
import type { Item } from './plan.js';

/** What fetching an item needs: a payload's fetch, where each item's own path is chosen here. */
export type FetchDeps = Omit<FetchPayloadDeps, 'path'>;

/** `done`: an earlier attempt of this child finished it; `ready`: its event is on disk. */
export type Fetched = { kind: 'done' } | { kind: 'ready'; payload: PayloadFile; remove(): Promise<void> };

/** Whether an item's result is already written. Failures are the run's errors (exit 2 or 4). */
export async function resultExists(target: OutputTarget, deps: FetchDeps): Promise<boolean> {
  if (target.kind === 's3') {
    const { s3ObjectExists } = await loadAws(deps.workDir);
    return s3ObjectExists(target.url, {
      log: deps.log,
      env: deps.env,
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
    });
  }
  if (target.kind !== 'file') return false;
  const s = await stat(target.path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    return ioError(`look for the result ${target.path}`)(err);
  });
  return s?.isFile() ?? false;
}

/**
 * Whether an earlier attempt finished the item: its record and its result are both there. The record is written
 * after the result, so it is looked for first (one request for an item never run); an item whose attempt was killed
 * between its result and its record is run again.
 */
export async function itemFinished(item: Item, deps: FetchDeps): Promise<boolean> {
  return (await resultExists(item.record, deps)) && (await resultExists(item.result, deps));
}

/**
 * Events and results on S3 up to this size are kept in memory, not written to the work folder and read back: a STAC
 * item is a few KB, and a file's write, read and removal cost more than its bytes. With FETCH_AHEAD events fetched
 * ahead of the item running and WRITES_IN_FLIGHT results being written, a child holds at most a few of them.
 */
export const ITEM_IN_MEMORY_BYTES = 1024 * 1024;

/** `look`: whether an earlier attempt may have finished it (false on a Batch job's first attempt). */
export async function fetchItem(item: Item, deps: FetchDeps, look: boolean): Promise<Fetched> {
  if (look && (await itemFinished(item, deps))) return { kind: 'done' };
  const path = join(deps.workDir, `item-${item.index}.json`);
  const payload = fetchPayload(item.source, { ...deps, path, inMemoryUpTo: ITEM_IN_MEMORY_BYTES });
  await payload.ready;
  const own = item.source.kind !== 'file' && payload.body === undefined;
  return { kind: 'ready', payload, remove: () => (own ? removeFile(path) : Promise.resolve()) };
}
