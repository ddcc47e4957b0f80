// How an item set's items came out, from one listing of its output prefix and the failures' own records: an item
// with a result succeeded; one with a record or an error part but no result failed (its record says why); one with
// neither is missing (its child never ran, or was lost before it wrote anything). Only failures are read, so 10,000
// items cost the listing's pages and as many reads as there are failures.
import type { S3Client } from '@aws-sdk/client-s3';
import { type ItemPart, itemUrls, parseItemName } from '../lib/item-set.js';
import { mapBounded } from '../lib/pool.js';
import { InvalidRunRecordError, parseRunErrorJson, parseRunRecordJson } from '../lib/run-record.js';
import { parseS3Url } from '../lib/s3-url.js';
import { aws, NotOursError } from './errors.js';
import { readText } from './objects.js';

/** Reads of failures' records in flight. */
const READ_CONCURRENCY = 16;
/** Indexes shown of each error type (and of the missing ones). */
export const FIRST_FEW = 5;

export interface ErrorGroup {
  type: string;
  count: number;
  /** the first FIRST_FEW failed indexes of this type, in order */
  first: number[];
  /** the first one's message */
  message: string;
}

export interface ItemsOutcome {
  /** how many items the job should have produced */
  expected: number;
  succeeded: number;
  failed: number;
  missing: number;
  failedItems: number[];
  missingItems: number[];
  /** failures by error type, the commonest first */
  byType: ErrorGroup[];
}

export interface ItemsProgress {
  listed?: (names: number) => void;
  read?: (done: number, of: number) => void;
}

/** The names directly under the prefix `url` (ListObjectsV2, 1,000 a page), relative to it. */
export async function listNames(s3: S3Client, url: string, progress?: ItemsProgress): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Url(`${url}x`);
  const prefix = key.slice(0, -1);
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await aws(`list ${url}`, () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    for (const o of page.Contents ?? [])
      if (o.Key?.startsWith(prefix)) names.push(o.Key.slice(prefix.length));
    progress?.listed?.(names.length);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return names;
}

type Seen = Partial<Record<ItemPart, true>>;

/** A failed item's error type and message: its record's, else its error part's; a bad record is a failure too. */
async function failureOf(
  s3: S3Client,
  outputUrl: string,
  i: number,
  seen: Seen,
): Promise<{ type: string; message: string }> {
  const urls = itemUrls(outputUrl, i);
  try {
    if (seen.record) {
      const text = await readText(s3, urls.record);
      const record = text === undefined ? undefined : parseRunRecordJson(text, urls.record);
      if (record?.status === 'failed')
        return { type: record.error!.errorType, message: record.error!.errorMessage };
      if (record?.status === 'succeeded')
        return {
          type: 'ResultMissingError',
          message: `its record says it succeeded, but ${urls.result} is gone`,
        };
    }
    const text = seen.error ? await readText(s3, urls.error) : undefined;
    if (text !== undefined) {
      const e = parseRunErrorJson(text, urls.error);
      return { type: e.errorType, message: e.errorMessage };
    }
    return {
      type: 'UnrecordedError',
      message: 'it left neither a run record nor an error part that could be read',
    };
  } catch (err) {
    if (!(err instanceof InvalidRunRecordError)) throw err;
    return { type: err.name, message: err.message };
  }
}

function groups(failed: number[], errors: { type: string; message: string }[]): ErrorGroup[] {
  const byType = new Map<string, ErrorGroup>();
  failed.forEach((i, k) => {
    const e = errors[k]!;
    const g = byType.get(e.type) ?? { type: e.type, count: 0, first: [], message: e.message };
    g.count++;
    if (g.first.length < FIRST_FEW) g.first.push(i);
    byType.set(e.type, g);
  });
  return [...byType.values()].sort((a, b) => b.count - a.count || a.type.localeCompare(b.type));
}

/**
 * The outcome of the items `expected` (indexes, in order) under the output prefix `outputUrl`. NotOursError when the
 * prefix is not an s3:// prefix.
 */
export async function itemsOutcome(
  s3: S3Client,
  outputUrl: string,
  expected: readonly number[],
  progress?: ItemsProgress,
): Promise<ItemsOutcome> {
  if (!outputUrl.startsWith('s3://'))
    throw new NotOursError(`the item set's output ${outputUrl} is not an s3:// prefix`);
  const seen = new Map<number, Seen>();
  for (const name of await listNames(s3, outputUrl, progress)) {
    const item = parseItemName(name);
    if (item) seen.set(item.index, { ...seen.get(item.index), [item.part]: true });
  }
  let succeeded = 0;
  const failedItems: number[] = [];
  const missingItems: number[] = [];
  for (const i of expected) {
    const s = seen.get(i);
    if (s?.result) succeeded++;
    else if (s) failedItems.push(i);
    else missingItems.push(i);
  }
  failedItems.sort((a, b) => a - b);
  missingItems.sort((a, b) => a - b);
  let done = 0;
  const errors = await mapBounded(failedItems, READ_CONCURRENCY, async (i) => {
    const e = await failureOf(s3, outputUrl, i, seen.get(i)!);
    progress?.read?.(++done, failedItems.length);
    return e;
  });
  return {
    expected: expected.length,
    succeeded,
    failed: failedItems.length,
    missing: missingItems.length,
    failedItems,
    missingItems,
    byType: groups(failedItems, errors),
  };
}
