// Item sets end to end through the deployed stack (dispatcher invoke → one SubmitJob → Batch array children → the
// built runner → S3), and one single job's run record. The harness runs the array's children as Batch would
// (batch-array.ts: AWS_BATCH_JOB_ARRAY_INDEX, the size from the SubmitJob request, a few at once), each in a fresh
// "container" (its own empty cache and /opt).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { GetFunctionCommand } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parseRunErrorJson, parseRunRecordJson, recordUrlFor } from '../../lib/run-record.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { createFunction } from '../integration/harness/fixtures.js';
import type { RecordedRequest } from '../integration/harness/index.js';
import { type E2eWorld, fnArn, startE2e } from './world.js';

const FN = 'e2e-items-task';
const HANDLER = `import os, time

def lambda_handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise ValueError("item %d cannot be done" % event["i"])
    return {"i": event["i"], "pid": os.getpid(), "job": os.environ.get("AWS_BATCH_JOB_ID")}
`;
const THROWING = new Set([17, 503, 998]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let w: E2eWorld;
before(async () => {
  w = await startE2e('e2e-items');
  await createFunction(w.h, { name: FN, runtime: 'python3.12', files: { 'lambda_function.py': HANDLER } });
});
after(() => w?.stop());

/** Every key under an s3:// prefix. */
async function keysUnder(url: string): Promise<string[]> {
  const { bucket, key } = parseS3Url(`${url}x`);
  const prefix = key.slice(0, -1);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await w.h.clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) keys.push((o.Key ?? '').slice(prefix.length));
    token = out.NextContinuationToken;
  } while (token);
  return keys;
}

const text = async (url: string) => String(await w.read(url));

test('1,000 payloads in one request: exactly one SubmitJob, 100 children of 10 items, 1,000 results at the documented keys; three items that throw leave their error records and fail only their children', async () => {
  const submits = () => w.h.front.calls('batch', 'SubmitJob').length;
  const before = submits();
  const payloads = Array.from({ length: 1000 }, (_, i) => (THROWING.has(i) ? { i, fail: true } : { i }));
  const answer = await w.dispatch({ lambda_function: FN, payloads, items_per_job: 10 });
  assert.equal(submits() - before, 1, 'one SubmitJob for the whole set');
  assert.deepEqual([answer.item_count, answer.items_per_job, answer.array_size], [1000, 10, 100]);
  assert.ok(answer.url_out.endsWith('/out/'), answer.url_out);

  const started = Date.now();
  // As processes: a hundred containers cost minutes here, and the other tests run jobs in their image already.
  const children = await w.runArrayJob(answer.job_id, { asProcesses: true });
  const ms = Date.now() - started;
  console.log(`# 100 children of 10 items through moto: ${ms} ms (${(ms / 1000).toFixed(2)} ms per item)`);
  assert.equal(children.length, 100);
  const failedChildren = children.filter((c) => c.exitCode !== 0).map((c) => c.index);
  assert.deepEqual(failedChildren, [1, 50, 99], 'the children of items 17, 503 and 998');
  for (const c of children.filter((x) => x.exitCode !== 0)) {
    assert.equal(c.exitCode, 1, c.stderr);
    assert.match(c.lastLine, /^ItemsFailedError: 1 of 10 items failed: (17|503|998) \(ValueError\)/);
  }
  assert.deepEqual(children[0]?.command, ['run', fnArn(FN), answer.url, answer.url_out]);

  const keys = new Set(await keysUnder(answer.url_out));
  for (let i = 0; i < 1000; i++) {
    assert.equal(keys.has(`${i}.run.json`), true, `record of item ${i}`);
    assert.equal(keys.has(`${i}.json`), !THROWING.has(i), `result of item ${i}`);
    assert.equal(keys.has(`${i}.error.json`), THROWING.has(i), `error part of item ${i}`);
  }
  assert.equal(keys.size, 1000 + 997 + 3, 'nothing else under the prefix');
  for (const i of [0, 539, 999]) {
    const result = JSON.parse(await text(`${answer.url_out}${i}.json`));
    assert.deepEqual([result.i, result.job], [i, `${answer.job_id}:${Math.floor(i / 10)}`]);
  }
  for (const i of THROWING) {
    const error = parseRunErrorJson(await text(`${answer.url_out}${i}.error.json`));
    assert.deepEqual([error.errorType, error.errorMessage], ['ValueError', `item ${i} cannot be done`]);
    const record = parseRunRecordJson(await text(`${answer.url_out}${i}.run.json`));
    assert.deepEqual([record.status, record.exit_code], ['failed', 1]);
    assert.deepEqual(record.error, error);
    assert.deepEqual(record.batch, {
      job_id: `${answer.job_id}:${Math.floor(i / 10)}`,
      attempt: 1,
      array_index: Math.floor(i / 10),
    });
  }
  // One runtime per child: its ten items were served by one process.
  const pids = await Promise.all(
    [20, 21, 29].map(async (i) => JSON.parse(await text(`${answer.url_out}${i}.json`)).pid),
  );
  assert.equal(new Set(pids).size, 1);
});

test('a child killed mid-way and retried (attempt 2) re-runs only its unfinished items', async () => {
  // Item 16 takes a while: the kill finds the child on it, whatever the machine's speed.
  const payloads = Array.from({ length: 30 }, (_, i) => (i === 16 ? { i, sleep: 3 } : { i }));
  const answer = await w.dispatch({ lambda_function: FN, payloads, items_per_job: 10 });
  assert.equal(answer.array_size, 3);
  const { bucket, key } = parseS3Url(`${answer.url_out}x`);
  const outKey = (name: string) => `/${bucket}/${key.slice(0, -1)}${name}`;
  // The host goes away once item 14 is fully done (its record written): SIGKILL, nothing cleans up.
  const recordOf14 = (r: RecordedRequest) =>
    r.operation === 'PutObject' && r.path === outKey('14.run.json') && r.status === 200;
  const first = await w.runArrayJob(answer.job_id, {
    only: [1],
    child: () => ({ stopWhen: { check: () => w.h.front.find(recordOf14) !== undefined, signal: 'SIGKILL' } }),
  });
  // As a process the child dies of the signal; in a container Docker reports it as exit code 137 (128 + 9), as Batch does.
  assert.ok(first[0]?.signal === 'SIGKILL' || first[0]?.exitCode === 137, first[0]?.stderr);
  const keys = new Set(await keysUnder(answer.url_out));
  // Finished: its result and its record are there (one killed between the two is not).
  const finished = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].filter(
    (i) => keys.has(`${i}.json`) && keys.has(`${i}.run.json`),
  );
  assert.ok(finished.includes(14) && !finished.includes(19), `finished before the kill: ${finished}`);

  const seq = w.h.front.requests.length;
  const retry = await w.runArrayJob(answer.job_id, { only: [1], child: () => ({ attempt: 2 }) });
  assert.equal(retry[0]?.exitCode, 0, retry[0]?.stderr);
  const read = w.h.front.requests
    .slice(seq)
    .filter((r) => r.operation === 'GetObject' && /\/in\/\d+\.json$/.test(r.path))
    .map((r) => Number(/(\d+)\.json$/.exec(r.path)?.[1]))
    .sort((a, b) => a - b);
  const unfinished = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].filter((i) => !finished.includes(i));
  assert.deepEqual(read, unfinished, 'only the unfinished items ran again');
  for (let i = 10; i < 20; i++) {
    const record = parseRunRecordJson(await text(`${answer.url_out}${i}.run.json`));
    assert.equal(record.status, 'succeeded');
    assert.equal(record.batch?.attempt, finished.includes(i) ? 1 : 2, `item ${i}`);
  }
});

test('a single job’s run record end to end: at record_url, every field true against S3 and GetFunction', async () => {
  const payload = { tile: 'single-record', i: 7, pad: 'x'.repeat(12_000) };
  const answer = await w.dispatch({ lambda_function: FN, payload });
  assert.equal(answer.record_url, recordUrlFor(answer.url_out));
  const r = await w.runJob(answer.job_id);
  assert.equal(r.exitCode, 0, r.stderr);
  const raw = await text(answer.record_url);
  console.log(`# run record from the e2e: ${raw.trim()}`);
  const record = parseRunRecordJson(raw, answer.record_url);
  const fn = await w.h.clients.lambda.send(new GetFunctionCommand({ FunctionName: FN }));
  const stored = (await w.read(answer.url)) as Buffer;
  const result = (await w.read(answer.url_out)) as Buffer;
  assert.equal(record.status, 'succeeded');
  assert.deepEqual(record.function, {
    arn: fnArn(FN),
    version: '$LATEST',
    runtime: 'python3.12',
    handler: 'lambda_function.lambda_handler',
    code_sha256: Buffer.from(fn.Configuration?.CodeSha256 ?? '', 'base64').toString('hex'),
    architecture: fn.Configuration?.Architectures?.[0] ?? 'x86_64',
  });
  assert.equal(record.runner.architecture, 'x86_64');
  assert.deepEqual(record.payload, { url: answer.url, bytes: stored.length, sha256: sha256(stored) });
  assert.deepEqual(record.result, { url: answer.url_out, bytes: result.length, sha256: sha256(result) });
  assert.deepEqual(record.batch, { job_id: answer.job_id, attempt: 1, array_index: null });
  assert.ok(!raw.includes('single-record'), 'no payload contents');
});
