// A redrive through the dispatcher: an item set's url and item_count with `item_indexes` (an index list under the
// set) and `redrive_of`, against moto through the recording front. The list sizes the array job; both reach the
// runner's environment and the answer; a bad list is refused before anything is written or submitted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import {
  RUN_LAMBDA_ITEM_COUNT,
  RUN_LAMBDA_ITEM_INDEXES,
  RUN_LAMBDA_ITEMS_PER_JOB,
  RUN_LAMBDA_REDRIVE_OF,
} from '../../lib/job-plan.js';
import type { BatchJobAnswer, BatchJobPlanAnswer } from '../../lib/request.js';
import { BUCKET, CONTEXT, startWorld, type World } from './dispatcher-fixtures.js';
import { putObject } from './harness/fixtures.js';

const JOB_ID = '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b';
const SET = `s3://${BUCKET}/redrive/set/in/`;
const LIST = `${SET}redrive-1.json`;

let w: World;
before(async () => {
  w = await startWorld();
  for (let i = 0; i < 10; i++) await putObject(w.h, BUCKET, `redrive/set/in/${i}.json`, { i });
});
after(() => w?.h.stop());

const request = (extra: Record<string, unknown> = {}) => ({
  lambda_function: 'plain-task',
  url: SET,
  item_count: 10,
  items_per_job: 2,
  item_indexes: LIST,
  redrive_of: JOB_ID,
  ...extra,
});
const submits = () => w.h.front.calls('batch', 'SubmitJob').map((r) => r.body as SubmitJobCommandInput);
const envOf = (input: SubmitJobCommandInput) =>
  Object.fromEntries((input.containerOverrides?.environment ?? []).map((e) => [e.name, e.value]));

test('5 of 10 items at items_per_job 2: one SubmitJob of 3 children, the list and the job it redrives in the environment and the answer', async () => {
  await putObject(w.h, BUCKET, 'redrive/set/in/redrive-1.json', [7, 1, 9, 4, 5]);
  w.h.front.clear();
  const a = (await w.invoke(w.handlerWith(), request())) as BatchJobAnswer;
  assert.deepEqual(
    { ...a, job_id: 'x' },
    {
      job_id: 'x',
      job_name: 'plain-task',
      job_queue: 'disp-queue',
      job_definition: 'run-lambda',
      image: 'lambda',
      url: SET,
      url_out: `s3://${BUCKET}/redrive/set/out/`,
      record_url: `s3://${BUCKET}/redrive/set/out/`,
      item_count: 10,
      items_per_job: 2,
      array_size: 3,
      item_indexes: LIST,
      redrive_of: JOB_ID,
    },
  );
  const [only, ...more] = submits();
  assert.equal(more.length, 0);
  assert.deepEqual(only!.arrayProperties, { size: 3 }, 'ceil(5 / 2), not ceil(10 / 2)');
  assert.deepEqual(envOf(only!), {
    [RUN_LAMBDA_ITEM_COUNT]: '10',
    [RUN_LAMBDA_ITEMS_PER_JOB]: '2',
    [RUN_LAMBDA_ITEM_INDEXES]: LIST,
    [RUN_LAMBDA_REDRIVE_OF]: JOB_ID,
  });
  const reads = w.h.front.calls('s3', 'GetObject');
  assert.deepEqual(
    reads.map((r) => [r.path, r.headers.range]),
    [[`/${BUCKET}/redrive/set/in/redrive-1.json`, 'bytes=0-262144']],
    'the list read once, at most its limit and a byte',
  );
  assert.equal(
    w.h.front.calls('s3', 'PutObject').length,
    0,
    'nothing written for a set that is already stored',
  );
});

test('a list of one item is a plain job; a single payload run again carries redrive_of alone', async () => {
  await putObject(w.h, BUCKET, 'redrive/set/in/redrive-2.json', [3]);
  w.h.front.clear();
  const a = (await w.invoke(
    w.handlerWith(),
    request({ item_indexes: `${SET}redrive-2.json` }),
  )) as BatchJobAnswer;
  assert.equal(a.array_size, 1);
  assert.equal(submits()[0]!.arrayProperties, undefined);
  w.h.front.clear();
  const single = (await w.invoke(w.handlerWith(), {
    lambda_function: 'plain-task',
    url: `s3://${BUCKET}/redrive/set/in/3.json`,
    redrive_of: JOB_ID,
  })) as BatchJobAnswer;
  assert.equal(single.redrive_of, JOB_ID);
  assert.equal(single.item_indexes, undefined);
  assert.deepEqual(envOf(submits()[0]!), { [RUN_LAMBDA_REDRIVE_OF]: JOB_ID });
});

test('plan mode answers with the SubmitJob input a redrive would send', async () => {
  await putObject(w.h, BUCKET, 'redrive/set/in/redrive-1.json', [7, 1, 9, 4, 5]);
  w.h.front.clear();
  const a = (await w.invoke(w.handlerWith(), request({ plan: true }))) as unknown as BatchJobPlanAnswer;
  const input = a.submit_job as unknown as SubmitJobCommandInput;
  assert.deepEqual(input.arrayProperties, { size: 3 });
  assert.equal(envOf(input)[RUN_LAMBDA_ITEM_INDEXES], LIST);
  assert.equal(submits().length, 0);
});

// Each case: the list's object (undefined: none), what the message must say after `item_indexes: <url> `.
const badLists: [string, string | undefined, RegExp][] = [
  ['no object', undefined, /^item_indexes: there is no object at s3:\/\/.*\/redrive-9\.json$/],
  ['an empty object', '', /is empty$/],
  ['not JSON', '[1, 2', /is not JSON/],
  ['an object, not an array', '{"failed": [1]}', /must be a JSON array of item indexes, got object/],
  ['an empty list', '[]', /must hold 1 to 10000 indexes, got 0/],
  ['an index past the set', '[2, 10]', /entry 1 \(10\) is not below the item count 10/],
  ['a repeated index', '[2, 3, 2]', /index 2 appears twice/],
  ['a fraction', '[1.5]', /entry 0 is not a whole number/],
  ['over its size limit', `[${' '.repeat(262_144)}1]`, /is over 262144 bytes/],
];

for (const [what, body, message] of badLists)
  test(`a redrive whose list is ${what} is InvalidRequestError naming item_indexes; nothing written or submitted`, async () => {
    const key = 'redrive/set/in/redrive-9.json';
    if (body !== undefined) await putObject(w.h, BUCKET, key, body);
    w.h.front.clear();
    try {
      await assert.rejects(w.handlerWith()(request({ item_indexes: `s3://${BUCKET}/${key}` }), CONTEXT), {
        name: 'InvalidRequestError',
        message,
      });
      assert.equal(submits().length, 0);
      assert.equal(w.h.front.calls('s3', 'PutObject').length, 0);
    } finally {
      await w.h.clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    }
  });

test('a list outside the set or a redrive_of that is no job id is refused before any AWS call', async () => {
  w.h.front.clear();
  await assert.rejects(
    w.handlerWith()(request({ item_indexes: `s3://${BUCKET}/redrive/other/in/redrive-1.json` }), CONTEXT),
    { name: 'InvalidRequestError', message: /^item_indexes: must be an object under the item set's prefix/ },
  );
  await assert.rejects(w.handlerWith()(request({ redrive_of: 'yesterday' }), CONTEXT), {
    name: 'InvalidRequestError',
    message: /^redrive_of: is not a Batch job id: "yesterday"$/,
  });
  assert.equal(w.h.front.requests.length, 0);
});
