// The item-set layout and its limits, in both directions: where item i's event, result, run record and error part
// are (written from an index), which item a name under the output prefix is (read back), how the dispatcher's
// input prefix names its output prefix, which items each child of the array job runs, and a redrive's index list
// beside the items (docs/architecture.md "The job contract"; for users, docs/runner.md "Item sets (array jobs)").
import { type JsonTextError, parseJsonText } from './json-text.js';

/** Batch array jobs have 2 to 10,000 children, so a set holds at most 10,000 items (one per child at most). */
export const MAX_ITEMS = 10_000;
/** Batch's smallest array job: a set whose items fit one child is submitted as a plain job. */
export const MIN_ARRAY_SIZE = 2;

/** What stands beside an item under the output prefix: its result, its run record, its error part. */
export const ItemParts = {
  result: '.json',
  record: '.run.json',
  error: '.error.json',
} as const;
export type ItemPart = keyof typeof ItemParts;

/**
 * True for a URL that names an item set: an S3 prefix or a folder, ending in `/`. Never a `data:` URL, whose
 * base64 may end in `/`, nor `-` (stdin or stdout). This is the rule for every side of the contract (the dispatcher,
 * the runner, post-batch), so a payload can never be a set on one side and one event on another.
 */
export function isItemSetUrl(url: string): boolean {
  return url.endsWith('/') && !url.startsWith('data:') && url !== '-';
}

function checkIndex(i: number): void {
  if (!Number.isInteger(i) || i < 0) throw new TypeError(`item index must be a whole number ≥ 0, got ${i}`);
}

/** Item `i`'s event under the set's input prefix (a URL or an S3 key prefix): `<prefix><i>.json`. */
export function itemInput(inputPrefix: string, i: number): string {
  checkIndex(i);
  return `${inputPrefix}${i}${ItemParts.result}`;
}

export type ItemUrls = Record<ItemPart, string>;

/** Item `i` of the set whose output prefix is `outputPrefix`: its result, its run record and its error part. */
export function itemUrls(outputPrefix: string, i: number): ItemUrls {
  if (!isItemSetUrl(outputPrefix))
    throw new TypeError(`${outputPrefix} is not an item set prefix (ending in /)`);
  checkIndex(i);
  return {
    result: `${outputPrefix}${i}${ItemParts.result}`,
    record: `${outputPrefix}${i}${ItemParts.record}`,
    error: `${outputPrefix}${i}${ItemParts.error}`,
  };
}

// An index as itemUrls writes it (no leading zeros, below 100,000) and one of the three endings.
const ITEM_NAME = /^(0|[1-9]\d{0,4})\.(run\.json|error\.json|json)$/;
const PART_OF: Record<string, ItemPart> = { json: 'result', 'run.json': 'record', 'error.json': 'error' };

/** Which item a name under the output prefix is (`7.run.json` → item 7's record); undefined for any other name. */
export function parseItemName(name: string): { index: number; part: ItemPart } | undefined {
  const m = ITEM_NAME.exec(name);
  return m ? { index: Number(m[1]), part: PART_OF[m[2]!]! } : undefined;
}

/** The layout of a set the dispatcher or the helper stores under `base` (`…/<id>/`): items in `in/`, results in `out/`. */
export function itemSetPrefixes(base: string): { input: string; output: string } {
  return { input: `${base}in/`, output: `${base}out/` };
}

/** The output prefix of a set stored in that layout (`…/in/` → `…/out/`); undefined for a prefix of another layout. */
export function outputPrefixFor(inputPrefix: string): string | undefined {
  return inputPrefix.endsWith('/in/')
    ? itemSetPrefixes(inputPrefix.slice(0, -'in/'.length)).output
    : undefined;
}

/** Children of the array job for `itemCount` items, `itemsPerJob` each: `ceil(n / k)` (1 means a plain job). */
export function arraySize(itemCount: number, itemsPerJob: number): number {
  return Math.ceil(itemCount / itemsPerJob);
}

/** The items child `index` runs: `[index*k, min(index*k + k, n))`. */
export function itemRange(
  index: number,
  itemsPerJob: number,
  itemCount: number,
): { start: number; end: number } {
  const start = index * itemsPerJob;
  return { start: Math.min(start, itemCount), end: Math.min(start + itemsPerJob, itemCount) };
}

/**
 * A redrive's index list: a JSON array of the item indexes a job runs instead of the whole set, an object directly
 * under the set's input prefix. lambda-batch names the n-th `redrive-<n>.json`; any name of that one segment ending in
 * `.json` that is not an item's own will do (the runner reads `<url><i>.json` as item i, so `3.json` cannot be a list).
 */
export const INDEX_LIST_NAME = /^redrive-([1-9]\d{0,5})\.json$/;
const LIST_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,122}\.json$/;
/** The largest index list read: 10,000 five-digit indexes with room for spaces and newlines. */
export const MAX_INDEX_LIST_BYTES = 256 * 1024;

/** The n-th redrive's index list of the set whose input prefix is `setUrl` (`<set>redrive-<n>.json`). */
export function indexListUrl(setUrl: string, n: number): string {
  if (!isItemSetUrl(setUrl)) throw new TypeError(`${setUrl} is not an item set prefix (ending in /)`);
  if (!Number.isInteger(n) || n < 1 || n > 999_999)
    throw new TypeError(`redrive number must be 1 to 999999, got ${n}`);
  return `${setUrl}redrive-${n}.json`;
}

/** Which redrive a name under the input prefix is (`redrive-3.json` → 3); undefined for any other name. */
export function parseIndexListName(name: string): number | undefined {
  const m = INDEX_LIST_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Why `url` cannot be an index list of the set `setUrl` (a message to follow the field's name), or undefined. */
export function indexListProblem(setUrl: string, url: string): string | undefined {
  if (!url.startsWith(setUrl)) return `must be an object under the item set's prefix ${setUrl}, got ${url}`;
  const name = url.slice(setUrl.length);
  if (!LIST_SEGMENT.test(name) || name.includes('..'))
    return `must name one object directly under ${setUrl}, ending in .json (as redrive-1.json), got ${JSON.stringify(name.slice(0, 130))}`;
  if (parseItemName(name) !== undefined) return `names an item of the set (${name}), not an index list`;
  return undefined;
}

/** An index list that is not JSON, not an array of distinct indexes below the item count, or too long. */
export class ItemIndexesError extends Error {
  override name = 'ItemIndexesError';
}

/**
 * The item indexes of a list's JSON text: 1 to MAX_ITEMS distinct whole numbers, each below `itemCount`, in the
 * list's order; else ItemIndexesError saying which entry is wrong.
 * @example parseItemIndexes('[3, 7]', 10) // [3, 7]
 */
export function parseItemIndexes(text: string, itemCount: number): number[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_INDEX_LIST_BYTES)
    throw new ItemIndexesError(
      `is over ${MAX_INDEX_LIST_BYTES} bytes; a list holds at most ${MAX_ITEMS} indexes`,
    );
  let raw: unknown;
  try {
    raw = parseJsonText(text);
  } catch (err) {
    throw new ItemIndexesError(`is ${(err as JsonTextError).message}`);
  }
  if (!Array.isArray(raw))
    throw new ItemIndexesError(
      `must be a JSON array of item indexes, got ${raw === null ? 'null' : typeof raw}`,
    );
  if (raw.length < 1 || raw.length > MAX_ITEMS)
    throw new ItemIndexesError(`must hold 1 to ${MAX_ITEMS} indexes, got ${raw.length}`);
  const seen = new Map<number, number>();
  raw.forEach((v: unknown, at: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new ItemIndexesError(`entry ${at} is not a whole number ≥ 0: ${JSON.stringify(v)?.slice(0, 40)}`);
    if (v >= itemCount)
      throw new ItemIndexesError(`entry ${at} (${v}) is not below the item count ${itemCount}`);
    const first = seen.get(v);
    if (first !== undefined)
      throw new ItemIndexesError(`index ${v} appears twice (entries ${first} and ${at})`);
    seen.set(v, at);
  });
  return raw as number[];
}

/** The items child `index` runs of an index list: the list's entries at `[index*k, min(index*k + k, m))`. */
export function listedItems(index: number, itemsPerJob: number, indexes: readonly number[]): number[] {
  const { start, end } = itemRange(index, itemsPerJob, indexes.length);
  return indexes.slice(start, end);
}
