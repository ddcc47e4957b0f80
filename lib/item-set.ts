// The item-set layout and its limits, in both directions: where item i's event, result, run record and error part
// are (written from an index), which item a name under the output prefix is (read back), how the dispatcher's
// input prefix names its output prefix, and which items each child of the array job runs (docs/architecture.md
// "The job contract"; for users, docs/runner.md "Item sets (array jobs)").

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
