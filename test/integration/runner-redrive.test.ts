// A redrive's child on S3 (moto through the harness): --item-indexes (RUN_LAMBDA_ITEM_INDEXES) names a list of the
// set's items, child j runs the list's entries [j*k, min(j*k+k, m)) at the same keys as before, and every record names
// the job it redrives (RUN_LAMBDA_REDRIVE_OF). A list that is not distinct indexes below the item count, a child past
// the list's end, and a bad job id are exit 2 before anything runs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runLambda, withRunnerHarness } from '../faults/support.js';
import { createFunction, getJson, getObject, putObject } from './harness/fixtures.js';
import type { Harness } from './harness/index.js';

const BUCKET = 'runner-redrive';
const HANDLER = `def lambda_handler(event, context):
    return {"i": event["i"]}
`;
const JOB = '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b';

let h: Harness;
let dir: string;
withRunnerHarness({ prefix: 'runner-redrive-', bucket: BUCKET }, async (started) => {
  ({ h, dir } = started);
  await createFunction(h, { name: 'redrive-task', files: { 'lambda_function.py': HANDLER } });
  for (let i = 0; i < 8; i++) await putObject(h, BUCKET, `set/in/${i}.json`, { i });
});

let n = 0;
function runChild(env: Record<string, string>, args: string[] = []) {
  n += 1;
  return runLambda({
    h,
    tmp: join(dir, `tmp-${n}`),
    cacheDir: join(dir, `cache-${n}`),
    env: { RUN_LAMBDA_ITEM_COUNT: '8', RUN_LAMBDA_ITEMS_PER_JOB: '2', ...env },
    args: [...args, 'redrive-task', `s3://${BUCKET}/set/in/`, `s3://${BUCKET}/set/out/`],
  });
}

const outKeys = async () =>
  (await Promise.all(Array.from({ length: 8 }, (_, i) => getObject(h, BUCKET, `set/out/${i}.json`))))
    .map((b, i) => (b ? i : -1))
    .filter((i) => i >= 0);

test("each child runs its entries of the list, in the list's order, at the set's keys; each record names the job redriven", async () => {
  await putObject(h, BUCKET, 'set/in/redrive-1.json', [6, 1, 3]);
  const env = {
    RUN_LAMBDA_ITEM_INDEXES: `s3://${BUCKET}/set/in/redrive-1.json`,
    RUN_LAMBDA_REDRIVE_OF: JOB,
    AWS_BATCH_JOB_ID: 'redrive-job:0',
    AWS_BATCH_JOB_ARRAY_INDEX: '0',
  };
  const first = await runChild(env);
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stderr,
    /item set: items 6, 1 of 8, from the 3 of the index list s3:\/\/runner-redrive\/set\/in\/redrive-1\.json \(child 0, 2 per child\)/,
  );
  assert.deepEqual(await outKeys(), [1, 6]);
  const second = await runChild({
    ...env,
    AWS_BATCH_JOB_ID: 'redrive-job:1',
    AWS_BATCH_JOB_ARRAY_INDEX: '1',
  });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await outKeys(), [1, 3, 6]);
  for (const i of [1, 3, 6]) {
    assert.deepEqual(await getJson(h, BUCKET, `set/out/${i}.json`), { i });
    const record = (await getJson(h, BUCKET, `set/out/${i}.run.json`)) as {
      redrive_of: string;
      status: string;
    };
    assert.deepEqual([record.status, record.redrive_of], ['succeeded', JOB]);
  }
});

test('the flag wins over its variable; a child past the list is exit 2 before anything runs', async () => {
  await putObject(h, BUCKET, 'set/in/redrive-2.json', [7]);
  const r = await runChild({ RUN_LAMBDA_ITEM_INDEXES: `s3://${BUCKET}/set/in/nonexistent.json` }, [
    '--item-indexes',
    `s3://${BUCKET}/set/in/redrive-2.json`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(await getObject(h, BUCKET, 'set/out/7.json'));
  h.front.clear();
  const past = await runChild({
    RUN_LAMBDA_ITEM_INDEXES: `s3://${BUCKET}/set/in/redrive-2.json`,
    AWS_BATCH_JOB_ARRAY_INDEX: '1',
  });
  assert.equal(past.code, 2, past.stderr);
  assert.equal(
    past.lastLine,
    'UsageError: AWS_BATCH_JOB_ARRAY_INDEX 1 is past the end of the index list: 1 indexes, 2 per job make 1 child (0)',
  );
  assert.equal(h.front.calls('lambda', 'GetFunction').length, 0, 'nothing prepared');
});

// Each case: the list's body (undefined: no object), what the last line must say.
const badLists: [string, string | undefined, RegExp][] = [
  ['no object', undefined, /^PayloadAccessError: .*redrive-bad\.json/],
  ['an object, not an array', '{"items": [1]}', /must be a JSON array of item indexes, got object$/],
  ['an index past the set', '[2, 8]', /entry 1 \(8\) is not below the item count 8$/],
  ['a repeated index', '[3, 3]', /index 3 appears twice \(entries 0 and 1\)$/],
  ['a negative index', '[-1]', /entry 0 is not a whole number ≥ 0: -1$/],
  ['not JSON', '[1,', /is not JSON/],
];

for (const [what, body, last] of badLists)
  test(`a list that is ${what}: exit 2 naming --item-indexes, nothing run or written`, async () => {
    const key = `set/in/redrive-bad-${n}.json`;
    if (body !== undefined) await putObject(h, BUCKET, key, body);
    h.front.clear();
    const r = await runChild({
      RUN_LAMBDA_ITEM_INDEXES: `s3://${BUCKET}/${body === undefined ? 'set/in/redrive-bad.json' : key}`,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.lastLine, last);
    if (body !== undefined)
      assert.match(r.lastLine, /^UsageError: --item-indexes \(RUN_LAMBDA_ITEM_INDEXES\) s3:\/\//);
    assert.equal(h.front.calls('lambda', 'GetFunction').length, 0, 'nothing prepared');
    assert.equal(h.front.calls('s3', 'PutObject').length, 0, 'nothing written');
  });

test('--item-indexes with one payload, and a RUN_LAMBDA_REDRIVE_OF that is no job id: exit 2', async () => {
  const one = await runLambda({
    h,
    tmp: join(dir, 'tmp-one'),
    cacheDir: join(dir, 'cache-one'),
    args: ['--item-indexes', 'l.json', 'redrive-task', `s3://${BUCKET}/set/in/0.json`],
  });
  assert.equal(one.code, 2);
  assert.match(one.lastLine, /^UsageError: --item-indexes \(RUN_LAMBDA_ITEM_INDEXES\) is for an item set/);
  const bad = await runChild({ RUN_LAMBDA_REDRIVE_OF: 'yesterday' });
  assert.equal(bad.code, 2);
  assert.equal(bad.lastLine, 'UsageError: RUN_LAMBDA_REDRIVE_OF must be a Batch job id, got "yesterday"');
});
