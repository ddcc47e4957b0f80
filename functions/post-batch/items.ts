// How an item set's job ended: counts and the failed items' indexes, from one listing and the failed items' records.
import { itemUrls, parseItemName } from '../../lib/item-set.js';
import { JobWireError, readItemCount } from '../../lib/job-wire.js';
import { mapBounded } from '../../lib/pool.js';
import { InvalidRunRecordError, parseRunErrorJson } from '../../lib/run-record.js';
import { InvalidJobError } from './errors.js';
import type { JobView } from './job.js';
import { type OutcomeOptions, readRecord } from './outcome.js';
import { failureWithoutRecord } from './reasons.js';

/**
 * What post-batch answers for an item set (docs/step-functions.md "Item sets (array jobs)"); results stay at
 * `<url_out><i>.json`.
 */
export interface ItemsSummary {
  url_out: string;
  item_count: number;
  succeeded: number;
  failed: number;
  /** items with neither a result nor a record: their child never ran, or was lost before it wrote anything */
  missing: number;
  failed_items: number[];
  missing_items: number[];
  /** errorType → how many failed items raised it */
  error_types: Record<string, number>;
}

const READ_CONCURRENCY = 16;

/** The set's size from the job's environment (the dispatcher puts it in the container overrides). */
export function itemCount(job: JobView): number {
  try {
    return readItemCount(job.environment);
  } catch (err) {
    if (!(err instanceof JobWireError)) throw err;
    throw new InvalidJobError(`job ${job.jobId} writes an item set, but ${err.message}`);
  }
}

type Seen = { result?: true; record?: true; error?: true };

async function errorTypeOf(urlOut: string, i: number, seen: Seen, options: OutcomeOptions): Promise<string> {
  const urls = itemUrls(urlOut, i);
  try {
    if (seen.record) {
      const record = await readRecord(options.reader, urls.record);
      if (record?.status === 'failed') return record.error!.errorType;
      // Succeeded by its record, yet the result (written before the record) is gone.
      if (record?.status === 'succeeded') return 'ResultMissingError';
    }
    const got = await options.reader.get(urls.error, 1024 * 1024);
    if (got && !('tooLarge' in got))
      return parseRunErrorJson(got.body.toString('utf8'), urls.error).errorType;
    return 'UnrecordedError';
  } catch (err) {
    if (!(err instanceof InvalidRunRecordError)) throw err;
    // One bad record must not hide the other 9,999 outcomes: it counts as a failure of its own kind.
    options.log.warn('malformed item record', { item: i, error: err });
    return err.name;
  }
}

/** The summary of the item set at `urlOut` written by `job`; throws when the job failed and no item left a trace. */
export async function itemsOutcome(
  job: JobView,
  urlOut: string,
  options: OutcomeOptions,
): Promise<ItemsSummary> {
  const count = itemCount(job);
  const seen = new Map<number, Seen>();
  for (const name of await options.reader.list(urlOut)) {
    const item = parseItemName(name);
    if (!item || item.index >= count) continue;
    seen.set(item.index, { ...seen.get(item.index), [item.part]: true });
  }
  if (seen.size === 0 && job.status !== 'SUCCEEDED') throw failureWithoutRecord(job);

  const toRead: number[] = [];
  const missing_items: number[] = [];
  let succeeded = 0;
  for (let i = 0; i < count; i++) {
    const s = seen.get(i);
    if (s?.result) succeeded++;
    else if (s) toRead.push(i);
    else missing_items.push(i);
  }
  const types = await mapBounded(toRead, READ_CONCURRENCY, (i) =>
    errorTypeOf(urlOut, i, seen.get(i)!, options),
  );
  const error_types: Record<string, number> = {};
  for (const t of types) error_types[t] = (error_types[t] ?? 0) + 1;
  return {
    url_out: urlOut,
    item_count: count,
    succeeded,
    failed: toRead.length,
    missing: missing_items.length,
    failed_items: toRead,
    missing_items,
    error_types,
  };
}
