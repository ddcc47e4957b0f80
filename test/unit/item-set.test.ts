// The item-set layout (lib/item-set.ts): item i's names under the prefixes, the names read back, the dispatcher's
// in/ → out/ layout, and which items each child runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  arraySize,
  isItemSetUrl,
  itemInput,
  itemRange,
  itemSetPrefixes,
  itemUrls,
  outputPrefixFor,
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
