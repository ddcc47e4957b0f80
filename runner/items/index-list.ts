// A redrive's index list (--item-indexes, RUN_LAMBDA_ITEM_INDEXES): the JSON array of the set's items the job runs
// instead of all of them (lib/item-set.ts). Read and checked before anything runs, in a temp folder of its own: a list
// that cannot be read, is too large, or is not distinct whole numbers below the item count is exit 2.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ItemIndexesError, MAX_INDEX_LIST_BYTES, MAX_ITEMS, parseItemIndexes } from '../../lib/item-set.js';
import { JobSettingVariables } from '../../lib/job-wire.js';
import { UsageError } from '../errors.js';
import { fetchPayload, parsePayloadUrl } from '../payload/source.js';
import type { RunDeps } from '../run-deps.js';

export const INDEXES_OPTION = `--item-indexes (${JobSettingVariables.itemIndexes})`;

/** The list at `url` (an s3:// object, a file or a path), checked against the set's `count` items. */
export async function readItemIndexes(
  url: string,
  count: number,
  deps: Pick<RunDeps, 'cwd' | 'stdin' | 'log' | 'env' | 'signal'>,
): Promise<number[]> {
  const source = parsePayloadUrl(url, deps.cwd);
  if (source.kind === 'stdin')
    throw new UsageError(`${INDEXES_OPTION} cannot be stdin: the events may come from there`);
  const dir = await mkdtemp(join(tmpdir(), 'run-lambda-indexes-'));
  try {
    const file = fetchPayload(source, { ...deps, workDir: dir, path: join(dir, 'indexes.json') });
    await file.ready;
    if ((await stat(file.path)).size > MAX_INDEX_LIST_BYTES)
      throw new UsageError(
        `${INDEXES_OPTION} ${url} is over ${MAX_INDEX_LIST_BYTES} bytes; a list holds at most ${MAX_ITEMS} indexes`,
      );
    return parseItemIndexes(await readFile(file.path, 'utf8'), count);
  } catch (err) {
    if (err instanceof ItemIndexesError) throw new UsageError(`${INDEXES_OPTION} ${url} ${err.message}`);
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
