import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFunction, getJson, getObject } from '../integration/harness/fixtures.js';
import type { Harness, RecordedRequest } from '../integration/harness/index.js';
import { cacheLeftovers, ECHO_HANDLER, freshRun, listTree, runLambda, withRunnerHarness } from './support.js';

const BUCKET = 'faults-transient';
const FN = 'ft-echo';

let h: Harness;
let dir: string;
withRunnerHarness({ prefix: 'faults-transient-', bucket: BUCKET }, async (started) => {
  ({ h, dir } = started);
  await createFunction(h, { name: FN, files: { 'lambda_function.py': ECHO_HANDLER } });
});

/** A fresh input object, cache and TMPDIR for one run. */
const fresh = (name: string) => freshRun(h, dir, BUCKET, name);

const s3Op = (op: string, key: string) => (r: RecordedRequest) =>
  r.service === 's3' && r.operation === op && r.path === `/${BUCKET}/${key}`;
const lambdaOp = (op: string) => (r: RecordedRequest) => r.service === 'lambda' && r.operation === op;
const codeDownload = (r: RecordedRequest) => r.service === 'code';

test('one 500 on GetFunction, a 503 SlowDown on GetObject and a 500 on PutObject: the run retries through them and writes the whole result', async () => {
  const f = await fresh('retry');
  const faults = [
    h.front.fault({ match: lambdaOp('GetFunction'), times: 1, kind: 'error', status: 500 }),
    h.front.fault({ match: s3Op('GetObject', f.key), times: 1, kind: 'error', status: 503 }),
    h.front.fault({ match: s3Op('PutObject', 'retry/out.json'), times: 1, kind: 'error', status: 500 }),
  ];
  const r = await runLambda({
    h,
    tmp: f.tmp,
    cacheDir: f.cacheDir,
    args: [FN, f.url, `s3://${BUCKET}/retry/out.json`],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    faults.map((x) => x.hits),
    [1, 1, 1],
  );
  assert.deepEqual(await getJson(h, BUCKET, 'retry/out.json'), { echo: { i: f.i } });
  assert.deepEqual(await getJson(h, BUCKET, f.key), { i: f.i });
  assert.deepEqual(await listTree(f.tmp), []);
});

test('connections dropped mid-answer on GetFunction and PutObject are retried and the run completes', async () => {
  const f = await fresh('drop');
  const faults = [
    h.front.fault({ match: lambdaOp('GetFunction'), times: 1, kind: 'drop' }),
    h.front.fault({ match: s3Op('PutObject', 'drop/in_out.json'), times: 1, kind: 'drop' }),
  ];
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, args: [FN, f.url] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    faults.map((x) => x.hits),
    [1, 1],
  );
  assert.deepEqual(await getJson(h, BUCKET, 'drop/in_out.json'), { echo: { i: f.i } });
  assert.deepEqual(await getJson(h, BUCKET, f.key), { i: f.i });
});

test('a payload download cut mid-body once is read again and the run completes', async () => {
  const f = await fresh('cut-payload');
  const fault = h.front.fault({ match: s3Op('GetObject', f.key), times: 1, kind: 'drop', afterBytes: 3 });
  const r = await runLambda({
    h,
    tmp: f.tmp,
    cacheDir: f.cacheDir,
    args: [FN, f.url, `s3://${BUCKET}/cut-payload/out.json`],
  });
  assert.equal(fault.hits, 1);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'cut-payload/out.json'), { echo: { i: f.i } });
});

test('a 503 SlowDown and a cut connection on the code download are retried and the run completes', async () => {
  const f = await fresh('code-retry');
  const a = h.front.fault({ match: codeDownload, times: 1, kind: 'error', status: 503, code: 'SlowDown' });
  const b = h.front.fault({ match: codeDownload, times: 1, kind: 'drop' });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, args: [FN, f.url] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([a.hits, b.hits], [1, 1]);
  assert.equal(h.front.downloads().length, 3);
  assert.deepEqual(await getJson(h, BUCKET, 'code-retry/in_out.json'), { echo: { i: f.i } });
  assert.deepEqual(await cacheLeftovers(f.cacheDir), []);
});

test('GetObject answering SlowDown every time: exit 4 naming it, no result, the input untouched', async () => {
  const f = await fresh('slow-read');
  const fault = h.front.fault({ match: s3Op('GetObject', f.key), kind: 'error', status: 503 });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, args: [FN, f.url] });
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.lastLine,
    /^PayloadIOError: could not read the payload s3:\/\/faults-transient\/slow-read\/in\.json: .*SlowDown/,
  );
  assert.ok(fault.hits >= 2, `the SDK retried (${fault.hits} attempts)`);
  fault.remove();
  // No result: the one PutObject is the run record's, beside where the result would have gone.
  assert.deepEqual(
    h.front.calls('s3', 'PutObject').map((p) => p.path),
    [`/${BUCKET}/slow-read/in_out.run.json`],
  );
  assert.equal(
    ((await getJson(h, BUCKET, 'slow-read/in_out.run.json')) as { exit_code: number }).exit_code,
    4,
  );
  assert.deepEqual(await getJson(h, BUCKET, f.key), { i: f.i });
  assert.deepEqual(await listTree(f.tmp), []);
});

test('PutObject failing with 500 every time: exit 4 naming the cause, no result, the input untouched', async () => {
  const f = await fresh('bad-write');
  const fault = h.front.fault({
    match: s3Op('PutObject', 'bad-write/in_out.json'),
    kind: 'error',
    status: 500,
  });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, args: [FN, f.url] });
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.lastLine,
    /^PayloadIOError: could not write the result to s3:\/\/faults-transient\/bad-write\/in_out\.json: .*InternalError/,
  );
  assert.equal(await getObject(h, BUCKET, 'bad-write/in_out.json'), undefined);
  assert.ok(fault.hits >= 2, `the SDK retried (${fault.hits} attempts)`);
  fault.remove();
  assert.deepEqual(await getJson(h, BUCKET, f.key), { i: f.i });
  assert.deepEqual(await listTree(f.tmp), []);
});

test('GetFunction failing with 500 every time: exit 3 naming the Lambda error, nothing written', async () => {
  const f = await fresh('bad-lambda');
  const fault = h.front.fault({ match: lambdaOp('GetFunction'), kind: 'error', status: 500 });
  const r = await runLambda({
    h,
    tmp: f.tmp,
    cacheDir: f.cacheDir,
    args: [FN, f.url, `s3://${BUCKET}/bad-lambda/out.json`],
  });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.lastLine, /^FunctionPrepareError: could not get function ft-echo: ServiceException/);
  assert.ok(fault.hits >= 2, `the SDK retried (${fault.hits} attempts)`);
  assert.equal(await getObject(h, BUCKET, 'bad-lambda/out.json'), undefined);
  assert.deepEqual(await getJson(h, BUCKET, f.key), { i: f.i });
  assert.deepEqual(await listTree(f.tmp), []);
});

test('the code download failing with 503 every time: exit 3 naming the status, no cache entry, nothing written', async () => {
  const f = await fresh('bad-code');
  h.front.fault({ match: codeDownload, kind: 'error', status: 503, code: 'SlowDown' });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, args: [FN, f.url] });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.lastLine, /^FunctionPrepareError: could not download the code of ft-echo: .*503/);
  assert.deepEqual(await getJson(h, BUCKET, f.key), { i: f.i });
  assert.deepEqual(await listTree(f.cacheDir).then((l) => l.filter((x) => !x.startsWith('clients'))), []);
  assert.deepEqual(await listTree(f.tmp), []);
});
