// The items one child of an item set runs, as places to read and write: which items (itemRange), item i's event
// (itemInput) and its result, record and error part (itemUrls) are lib/item-set.ts's layout; here each becomes a
// payload source or an output target (docs/architecture.md "The path of one item").
import { stat } from 'node:fs/promises';
import { itemInput, itemRange, itemUrls } from '../../lib/item-set.js';
import { InvalidOutputError, UsageError } from '../errors.js';
import type { ItemSetOptions } from '../options.js';
import { type PayloadSource, parsePayloadUrl } from '../payload/source.js';
import { type OutputTarget, parseOutputUrl } from '../payload/target.js';
import type { RecordPlace } from '../record/write.js';

export interface Item {
  index: number;
  source: PayloadSource;
  result: OutputTarget;
  record: RecordPlace;
  error: RecordPlace;
}

/** A result, record or error URL as a place to write (S3 object or file). */
function place(url: string, cwd: string): OutputTarget & RecordPlace {
  const t = parseOutputUrl(url, cwd);
  if (t.kind === 'stdout') throw new UsageError(`an item set's output cannot be stdout`);
  return t;
}

/** The child's items, in order; checked before anything runs (exit 2 for URLs or an output folder that cannot be). */
export async function planItems(
  payloadUrl: string,
  outputUrl: string,
  set: ItemSetOptions,
  cwd: string,
): Promise<Item[]> {
  if (payloadUrl === outputUrl) {
    throw new InvalidOutputError(
      `the output prefix ${outputUrl} is the item set itself; the input is never overwritten (give another <output-url>)`,
    );
  }
  const { start, end } = itemRange(set.index, set.perJob, set.count);
  const items: Item[] = [];
  for (let i = start; i < end; i++) {
    const urls = itemUrls(outputUrl, i);
    items.push({
      index: i,
      source: parsePayloadUrl(itemInput(payloadUrl, i), cwd),
      result: place(urls.result, cwd),
      record: place(urls.record, cwd),
      error: place(urls.error, cwd),
    });
  }
  const first = items[0]?.result;
  if (first?.kind === 'file') await checkFolder(first.path, outputUrl);
  return items;
}

async function checkFolder(resultPath: string, outputUrl: string): Promise<void> {
  const folder = resultPath.slice(0, resultPath.lastIndexOf('/') + 1);
  const s = await stat(folder).catch(() => undefined);
  if (!s?.isDirectory()) {
    throw new InvalidOutputError(`cannot write the item set's results to ${outputUrl}: no folder ${folder}`);
  }
}
