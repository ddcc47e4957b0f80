// Item sets on S3 (moto through the harness): the next item's payload fetched while one runs, results and records
// under the output prefix, and a transient failure inside a set: the child stops with exit 4 (Batch retries it), and
// the retry skips the finished items (their record and result are there) and runs the rest.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunRecordJson } from '../../lib/run-record.js';
import { runLambda, withRunnerHarness } from '../faults/support.js';
import { createFunction, getJson, getObject, putObject } from './harness/fixtures.js';
import type { Harness, RecordedRequest } from './harness/index.js';

const BUCKET = 'runner-items';
// `served`: how many events this runtime had been given, this one included (its init ran once: the count lives on).
const HANDLER = `import os

served = 0

def lambda_handler(event, context):
    global served
    served += 1
    return {"i": event["i"], "pid": os.getpid(), "served": served}
`;

let h: Harness;
let dir: string;
withRunnerHarness({ prefix: 'runner-items-', bucket: BUCKET }, async (started) => {
  ({ h, dir } = started);
  await createFunction(h, { name: 'items-task', files: { 'lambda_function.py': HANDLER } });
});

async function putSet(name: string, count: number) {
  for (let i = 0; i < count; i++) await putObject(h, BUCKET, `${name}/in/${i}.json`, { i });
}

let n = 0;
function runChild(name: string, count: number, perJob: number, env: Record<string, string> = {}) {
  n += 1;
  return runLambda({
    h,
    tmp: join(dir, `tmp-${n}`),
    cacheDir: join(dir, `cache-${n}`),
    env: { RUN_LAMBDA_ITEM_COUNT: String(count), RUN_LAMBDA_ITEMS_PER_JOB: String(perJob), ...env },
    args: ['items-task', `s3://${BUCKET}/${name}/in/`, `s3://${BUCKET}/${name}/out/`],
  });
}

const op = (operation: string, key: string) => (r: RecordedRequest) =>
  r.operation === operation && r.path === `/${BUCKET}/${key}`;
const keysOf = (operation: string, name: string) =>
  h.front
    .calls('s3', operation)
    .map((r) => r.path.slice(`/${BUCKET}/${name}/`.length))
    .filter((k) => !k.startsWith('/'));

test('an S3 item set: one child runs its items in one runtime, each result and record under the output prefix', async () => {
  await putSet('s1', 6);
  h.front.clear();
  const r = await runChild('s1', 6, 3, { AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ID: 'job-s1:1' });
  assert.equal(r.code, 0, r.stderr);
  const results = (await Promise.all([3, 4, 5].map((i) => getJson(h, BUCKET, `s1/out/${i}.json`)))) as {
    i: number;
    pid: number;
    served: number;
  }[];
  assert.deepEqual(
    results.map((x) => x.i),
    [3, 4, 5],
  );
  assert.equal(new Set(results.map((x) => x.pid)).size, 1, 'one runtime');
  assert.deepEqual(
    results.map((x) => x.served),
    [1, 2, 3],
    'served to it one after another, in the order of the set',
  );
  // Each item's event read once. The next two are fetched at once, so their reads may reach S3 in either order.
  assert.deepEqual(keysOf('GetObject', 's1').sort(), ['in/3.json', 'in/4.json', 'in/5.json']);
  // One HeadObject per item: its record (written last) is not there, so neither is a finished attempt.
  assert.deepEqual(keysOf('HeadObject', 's1').sort(), ['out/3.run.json', 'out/4.run.json', 'out/5.run.json']);
  assert.deepEqual(keysOf('PutObject', 's1').sort(), [
    'out/3.json',
    'out/3.run.json',
    'out/4.json',
    'out/4.run.json',
    'out/5.json',
    'out/5.run.json',
  ]);
  // Item 4's fetch began before item 3's result was written: it was under way while item 3 ran. (Its first request
  // is sent with item 3's; only its order against item 3's requests is left to chance.)
  const seq = (f: (q: RecordedRequest) => boolean) => h.front.find(f)?.seq ?? -1;
  assert.ok(seq(op('HeadObject', 's1/out/4.run.json')) < seq(op('PutObject', 's1/out/3.json')));
  assert.equal(await getObject(h, BUCKET, 's1/out/0.json'), undefined, 'not this child’s');
  const rec = parseRunRecordJson(String(await getObject(h, BUCKET, 's1/out/4.run.json')));
  assert.deepEqual(rec.batch, { job_id: 'job-s1:1', attempt: 1, array_index: 1 });
  // The first attempt of a Batch job: no earlier attempt can have finished an item, so none is looked for.
  h.front.clear();
  const first = await runChild('s1', 6, 3, { AWS_BATCH_JOB_ARRAY_INDEX: '0', AWS_BATCH_JOB_ATTEMPT: '1' });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(keysOf('HeadObject', 's1'), []);
  assert.deepEqual(keysOf('GetObject', 's1').sort(), ['in/0.json', 'in/1.json', 'in/2.json']);
});

test('a result that cannot be written inside a set stops the child with exit 4; the retry skips what is finished', async () => {
  await putSet('s2', 12);
  const fault = h.front.fault({
    match: op('PutObject', 's2/out/2.json'),
    kind: 'error',
    status: 503,
    code: 'SlowDown',
  });
  const first = await runChild('s2', 12, 12);
  fault.remove();
  assert.equal(first.code, 4, first.stderr);
  assert.match(
    first.lastLine,
    /^PayloadIOError: could not write the result to s3:\/\/runner-items\/s2\/out\/2\.json: SlowDown/,
  );
  const rec2 = parseRunRecordJson(String(await getObject(h, BUCKET, 's2/out/2.run.json')));
  assert.equal(rec2.exit_code, 4);
  // The items whose writes were under way beside it ran too (serve-items.ts WRITES_IN_FLIGHT); none after them.
  assert.equal(await getObject(h, BUCKET, 's2/out/11.json'), undefined, 'the child stopped');
  assert.ok(await getObject(h, BUCKET, 's2/out/0.json'));
  assert.ok(await getObject(h, BUCKET, 's2/out/1.json'));
  const before = await Promise.all(
    Array.from(
      { length: 12 },
      async (_, i) => (await getObject(h, BUCKET, `s2/out/${i}.run.json`)) !== undefined,
    ),
  );
  const finished = before.flatMap((has, i) => (has && i !== 2 ? [i] : []));
  h.front.clear();
  const retry = await runChild('s2', 12, 12, { AWS_BATCH_JOB_ATTEMPT: '2', AWS_BATCH_JOB_ID: 'job-s2' });
  assert.equal(retry.code, 0, retry.stderr);
  const ran = keysOf('GetObject', 's2').map((k) => Number(/(\d+)\.json$/.exec(k)?.[1]));
  const expected = Array.from({ length: 12 }, (_, i) => i).filter((i) => !finished.includes(i));
  assert.deepEqual(
    ran.sort((a, b) => a - b),
    expected,
    'only the unfinished items ran again',
  );
  for (let i = 0; i < 12; i++) assert.ok(await getObject(h, BUCKET, `s2/out/${i}.json`), `item ${i}`);
  const again = parseRunRecordJson(String(await getObject(h, BUCKET, 's2/out/2.run.json')));
  assert.deepEqual([again.status, again.batch?.attempt], ['succeeded', 2]);
});

test('an item payload that cannot be read for a transient reason stops the child with exit 4, naming it', async () => {
  await putSet('s3', 3);
  const fault = h.front.fault({ match: op('GetObject', 's3/in/1.json'), kind: 'error', status: 500 });
  const r = await runChild('s3', 3, 3);
  fault.remove();
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.lastLine,
    /^PayloadIOError: could not read the payload s3:\/\/runner-items\/s3\/in\/1\.json/,
  );
  assert.ok(await getObject(h, BUCKET, 's3/out/0.json'));
  assert.equal(await getObject(h, BUCKET, 's3/out/2.json'), undefined, 'the child stopped');
});

// Hostile sets on S3: each fails with a clear error and its documented exit code, and nothing is written that should
// not be (the local-folder twins of these are in test/runner/items.test.ts).
const HOSTILE = `import os

def lambda_handler(event, context):
    if event.get("kill"):
        os.kill(os.getpid(), 9)
    return {"i": event["i"], "pid": os.getpid()}
`;

function runHostile(name: string, env: Record<string, string>) {
  n += 1;
  return runLambda({
    h,
    tmp: join(dir, `tmp-${n}`),
    cacheDir: join(dir, `cache-${n}`),
    env,
    args: ['items-hostile', `s3://${BUCKET}/${name}/in/`, `s3://${BUCKET}/${name}/out/`],
  });
}

const outKeys = async (name: string) => {
  const keys: string[] = [];
  for (const i of [0, 1, 2, 3])
    for (const suffix of ['.json', '.run.json', '.error.json'])
      if (await getObject(h, BUCKET, `${name}/out/${i}${suffix}`)) keys.push(`${i}${suffix}`);
  return keys;
};

test('a hostile set on S3: counts out of range and a child index past the set are exit 2 before any request; nothing read or written', async () => {
  await createFunction(h, { name: 'items-hostile', files: { 'lambda_function.py': HOSTILE } });
  await putSet('h1', 4);
  const cases: [Record<string, string>, RegExp][] = [
    [
      { RUN_LAMBDA_ITEM_COUNT: '0' },
      /RUN_LAMBDA_ITEM_COUNT\) must be a whole number from 1 to 10000, got "0"$/,
    ],
    [{ RUN_LAMBDA_ITEM_COUNT: '10001' }, /got "10001"$/],
    [{ RUN_LAMBDA_ITEM_COUNT: 'four' }, /got "four"$/],
    [{ RUN_LAMBDA_ITEM_COUNT: '4', RUN_LAMBDA_ITEMS_PER_JOB: '0' }, /RUN_LAMBDA_ITEMS_PER_JOB\) must be/],
    [
      { RUN_LAMBDA_ITEM_COUNT: '4', RUN_LAMBDA_ITEMS_PER_JOB: '2', AWS_BATCH_JOB_ARRAY_INDEX: '2' },
      /^UsageError: AWS_BATCH_JOB_ARRAY_INDEX 2 is past the end of the set: 4 items, 2 per job make 2 children \(0 to 1\)$/,
    ],
  ];
  for (const [env, last] of cases) {
    h.front.clear();
    const r = await runHostile('h1', env);
    assert.equal(r.code, 2, `${JSON.stringify(env)}: ${r.stderr}`);
    assert.match(r.lastLine, last);
    assert.deepEqual(h.front.requests.length, 0, `${JSON.stringify(env)}: no AWS request`);
  }
  assert.deepEqual(await outKeys('h1'), []);
});

test('a hostile set on S3: a missing item and one that is not JSON fail alone (exit 2 in their records, no payload text); the others run; exit 1', async () => {
  await putObject(h, BUCKET, 'h2/in/0.json', { i: 0 });
  await putObject(h, BUCKET, 'h2/in/2.json', '{"i": 2, "secret": "s3cr3t-t0ken"');
  await putObject(h, BUCKET, 'h2/in/3.json', { i: 3 });
  const r = await runHostile('h2', { RUN_LAMBDA_ITEM_COUNT: '4', RUN_LAMBDA_ITEMS_PER_JOB: '4' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.lastLine,
    /^ItemsFailedError: 2 of 4 items failed: 1 \(PayloadAccessError\), 2 \(InvalidPayloadError\)/,
  );
  assert.deepEqual(await outKeys('h2'), [
    '0.json',
    '0.run.json',
    '1.run.json',
    '1.error.json',
    '2.run.json',
    '2.error.json',
    '3.json',
    '3.run.json',
  ]);
  const records = await Promise.all([1, 2].map((i) => getObject(h, BUCKET, `h2/out/${i}.run.json`)));
  const rec = (i: number) => parseRunRecordJson(String(records[i - 1]));
  assert.deepEqual([rec(1).exit_code, rec(1).error?.errorType], [2, 'PayloadAccessError']);
  assert.match(rec(1).error?.errorMessage ?? '', /h2\/in\/1\.json/);
  assert.deepEqual([rec(2).exit_code, rec(2).error?.errorType], [2, 'InvalidPayloadError']);
  assert.ok(!String(records[1]).includes('s3cr3t'), 'no payload text in the record');
  assert.ok(!String(await getObject(h, BUCKET, 'h2/out/2.error.json')).includes('s3cr3t'));
});

test('a hostile set on S3: an item that kills its runtime fails alone (Runtime.ExitError); the next runs on a fresh runtime', async () => {
  await putObject(h, BUCKET, 'h3/in/0.json', { i: 0 });
  await putObject(h, BUCKET, 'h3/in/1.json', { i: 1, kill: true });
  await putObject(h, BUCKET, 'h3/in/2.json', { i: 2 });
  const r = await runHostile('h3', { RUN_LAMBDA_ITEM_COUNT: '3', RUN_LAMBDA_ITEMS_PER_JOB: '3' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.lastLine, /^ItemsFailedError: 1 of 3 items failed: 1 \(Runtime\.ExitError\)/);
  const error = JSON.parse(String(await getObject(h, BUCKET, 'h3/out/1.error.json'))) as {
    errorMessage: string;
  };
  assert.equal(error.errorMessage, 'runtime was killed with SIGKILL before it returned a result');
  const [a, b] = await Promise.all([0, 2].map((i) => getJson(h, BUCKET, `h3/out/${i}.json`)));
  assert.notEqual((a as { pid: number }).pid, (b as { pid: number }).pid, 'a fresh runtime for item 2');
  assert.equal(await getObject(h, BUCKET, 'h3/out/1.json'), undefined);
});
