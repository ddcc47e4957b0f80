// The item-set layout (lib/item-set.ts): item i's names under the prefixes, the names read back, the dispatcher's
// in/ → out/ layout, and which items each child runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  arraySize,
  indexListProblem,
  indexListUrl,
  isItemSetUrl,
  itemInput,
  itemRange,
  itemSetPrefixes,
  itemUrls,
  listedItems,
  outputPrefixFor,
  parseIndexListName,
  parseItemIndexes,
  parseItemName,
} from '../../lib/item-set.js';

test('item i of a set has <out>/<i>.json, <out>/<i>.run.json and <out>/<i>.error.json', () => {
  assert.ok(isItemSetUrl('s3://b/x/out/'));
  assert.ok(!isItemSetUrl('s3://b/x/out.json'));
  assert.deepEqual(itemUrls('s3://b/x/out/', 7), {
    result: 's3://b/x/out/7.json',
    record: 's3://b/x/out/7.run.json',
    error: 's3://b/x/out/7.error.json',
  });
  assert.throws(() => itemUrls('s3://b/x/out.json', 0), TypeError);
  assert.throws(() => itemUrls('s3://b/x/out/', -1), TypeError);
  assert.throws(() => itemUrls('s3://b/x/out/', 1.5), TypeError);
});

test('a set is a prefix or folder ending in /, never a data: URL whose base64 ends so, nor - (stdin, stdout)', () => {
  assert.ok(isItemSetUrl('s3://b/x/in/'));
  assert.ok(isItemSetUrl('items/'));
  assert.ok(isItemSetUrl('file:///tmp/set/'));
  assert.ok(!isItemSetUrl('data:application/json;base64,Pz8/'));
  assert.ok(!isItemSetUrl('-'));
  assert.ok(!isItemSetUrl('s3://b/x/in'));
});

test("item i's event is <in><i>.json, under a URL or an S3 key prefix alike", () => {
  assert.equal(itemInput('s3://b/batch/f/k/in/', 0), 's3://b/batch/f/k/in/0.json');
  assert.equal(itemInput('batch/f/k/in/', 9999), 'batch/f/k/in/9999.json');
  assert.throws(() => itemInput('batch/f/k/in/', -1), TypeError);
});

test('a name under the output prefix is read back to the item and part that itemUrls wrote it for', () => {
  for (const i of [0, 7, 9999, 99_999])
    for (const [part, url] of Object.entries(itemUrls('s3://b/o/', i)))
      assert.deepEqual(parseItemName(url.slice('s3://b/o/'.length)), { index: i, part });
  for (const name of [
    '07.json',
    '100000.json',
    'x.json',
    '1.txt',
    '1.run.json.tmp',
    '-1.json',
    '1/2.json',
    '',
  ])
    assert.equal(parseItemName(name), undefined, name);
});

test("the dispatcher's layout: items under <base>in/, results under <base>out/, and in/ read back to out/", () => {
  assert.deepEqual(itemSetPrefixes('batch/f/k/'), { input: 'batch/f/k/in/', output: 'batch/f/k/out/' });
  assert.equal(outputPrefixFor('s3://b/batch/f/k/in/'), 's3://b/batch/f/k/out/');
  assert.equal(outputPrefixFor('s3://b/batch/f/k/items/'), undefined);
  assert.equal(outputPrefixFor('s3://b/batch/f/k/login/'), undefined);
});

test('children split the items as the runner reads them: [j*k, min(j*k+k, n))', () => {
  assert.equal(arraySize(1000, 10), 100);
  assert.equal(arraySize(1, 10), 1);
  assert.deepEqual(itemRange(0, 10, 1000), { start: 0, end: 10 });
  assert.deepEqual(itemRange(99, 10, 1000), { start: 990, end: 1000 });
  assert.deepEqual(itemRange(100, 10, 1005), { start: 1000, end: 1005 });
  const covered = Array.from({ length: arraySize(1005, 10) }, (_, j) => itemRange(j, 10, 1005));
  assert.equal(
    covered.reduce((n, r) => n + r.end - r.start, 0),
    1005,
  );
});

test("a redrive's index list is <set>redrive-<n>.json, read back to its number; other names under the set are not lists", () => {
  const set = 's3://b/batch/f/k/in/';
  assert.equal(indexListUrl(set, 3), 's3://b/batch/f/k/in/redrive-3.json');
  assert.equal(parseIndexListName('redrive-3.json'), 3);
  for (const name of ['redrive-0.json', 'redrive-03.json', 'redrive-3.json.tmp', '3.json', 'redrive-.json'])
    assert.equal(parseIndexListName(name), undefined, name);
  assert.throws(() => indexListUrl('s3://b/k.json', 1), TypeError);
  assert.equal(indexListProblem(set, indexListUrl(set, 1)), undefined);
  assert.equal(indexListProblem(set, `${set}failed-items.json`), undefined);
  assert.match(
    indexListProblem(set, 's3://b/batch/f/other/in/redrive-1.json') ?? '',
    /under the item set's prefix/,
  );
  assert.match(indexListProblem(set, `${set}sub/redrive-1.json`) ?? '', /directly under/);
  assert.match(indexListProblem(set, `${set}..json`) ?? '', /directly under/);
  assert.match(indexListProblem(set, `${set}redrive-1.txt`) ?? '', /ending in \.json/);
  for (const item of ['7.json', '7.run.json', '7.error.json'])
    assert.match(indexListProblem(set, `${set}${item}`) ?? '', /names an item/, item);
});

test('an index list is 1 to 10,000 distinct whole numbers below the item count; each fault names its entry', () => {
  assert.deepEqual(parseItemIndexes(' [3, 0, 9]\n', 10), [3, 0, 9]);
  const cases: [string, RegExp][] = [
    ['{"a": 1}', /must be a JSON array of item indexes, got object/],
    ['[1, 2', /is not JSON \(5 characters; the parser stopped at offset 5\)/],
    ['[]', /must hold 1 to 10000 indexes, got 0/],
    [JSON.stringify(Array.from({ length: 10_001 }, (_, i) => i)), /must hold 1 to 10000 indexes, got 10001/],
    ['[1, -1]', /entry 1 is not a whole number ≥ 0: -1/],
    ['[1, 2.5]', /entry 1 is not a whole number ≥ 0: 2.5/],
    ['["1"]', /entry 0 is not a whole number ≥ 0: "1"/],
    ['[4, 10]', /entry 1 \(10\) is not below the item count 10/],
    ['[4, 5, 4]', /index 4 appears twice \(entries 0 and 2\)/],
    [`[${' '.repeat(300 * 1024)}1]`, /is over 262144 bytes/],
  ];
  for (const [text, message] of cases)
    assert.throws(() => parseItemIndexes(text, 10), { name: 'ItemIndexesError', message }, text.slice(0, 40));
});

test("child j of a list's job runs the list's entries at [j*k, min(j*k+k, m)), in the list's order", () => {
  const list = [9, 2, 7, 4, 5];
  assert.deepEqual(listedItems(0, 2, list), [9, 2]);
  assert.deepEqual(listedItems(2, 2, list), [5]);
  assert.deepEqual(listedItems(3, 2, list), []);
});
