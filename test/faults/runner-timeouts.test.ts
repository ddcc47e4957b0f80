// Answers that never come: every AWS call and download has connect and idle timeouts, retried as transient
// (RUN_LAMBDA_NETWORK_TIMEOUT=1 keeps these tests short; the default is 60 s).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFunction, createLayer, getJson, getObject } from '../integration/harness/fixtures.js';
import type { Harness, RecordedRequest } from '../integration/harness/index.js';
import { cacheLeftovers, ECHO_HANDLER, freshRun, listTree, runLambda, withRunnerHarness } from './support.js';

const BUCKET = 'faults-timeouts';
const FN = 'fto-echo';
const LAYERED = 'fto-layered';
const env = { RUN_LAMBDA_NETWORK_TIMEOUT: '1' };

let h: Harness;
let dir: string;
withRunnerHarness({ prefix: 'faults-timeouts-', bucket: BUCKET }, async (started) => {
  ({ h, dir } = started);
  await createFunction(h, { name: FN, files: { 'lambda_function.py': ECHO_HANDLER } });
  const layer = await createLayer(h, 'fto-layer', { 'python/dep.py': 'VALUE = 1\n' });
  await createFunction(h, {
    name: LAYERED,
    files: {
      'lambda_function.py':
        'import dep\n\ndef lambda_handler(event, context):\n    return {"dep": dep.VALUE}\n',
    },
    layers: [layer],
  });
});

/** A fresh input, cache and TMPDIR for one run, and where its result goes by default. */
async function fresh(name: string) {
  return { ...(await freshRun(h, dir, BUCKET, name)), outKey: `${name}/in_out.json` };
}

const s3Op = (op: string, key: string) => (r: RecordedRequest) =>
  r.service === 's3' && r.operation === op && r.path === `/${BUCKET}/${key}`;
const getFunction = (r: RecordedRequest) => r.service === 'lambda' && r.operation === 'GetFunction';
const codeOf = (target: string) => (r: RecordedRequest) => r.service === 'code' && r.code?.target === target;

test('GetFunction that never answers once: the call times out, is retried, and the run completes', async () => {
  const f = await fresh('gf-once');
  const stall = h.front.fault({ match: getFunction, times: 1, kind: 'stall' });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [FN, f.url] });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(stall.hits, 1);
  assert.deepEqual(await getJson(h, BUCKET, f.outKey), { echo: { i: f.i } });
});

test('GetFunction that never answers: exit 3 once the retries run out, nothing written', async () => {
  const f = await fresh('gf-always');
  const stall = h.front.fault({ match: getFunction, kind: 'stall' });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [FN, f.url] });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.lastLine, /^FunctionPrepareError: could not get function fto-echo: TimeoutError: /);
  assert.ok(stall.hits >= 2, `retried (${stall.hits} tries)`);
  assert.equal(await getObject(h, BUCKET, f.outKey), undefined);
  assert.deepEqual(await listTree(f.tmp), []);
});

test('a payload GetObject that never answers once, then one stalled mid-body: both retried, the run completes', async () => {
  const f = await fresh('get-once');
  const a = h.front.fault({ match: s3Op('GetObject', f.key), times: 1, kind: 'stall' });
  const b = h.front.fault({ match: s3Op('GetObject', f.key), times: 1, kind: 'stall', afterBytes: 3 });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [FN, f.url] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([a.hits, b.hits], [1, 1]);
  assert.deepEqual(await getJson(h, BUCKET, f.outKey), { echo: { i: f.i } });
});

test('a payload body that always stalls: exit 4 (transient), naming the timeout, the input untouched', async () => {
  const f = await fresh('get-always');
  h.front.fault({ match: s3Op('GetObject', f.key), kind: 'stall', afterBytes: 3 });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [FN, f.url] });
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.lastLine,
    /^PayloadIOError: could not read the payload s3:\/\/faults-timeouts\/get-always\/in\.json: TimeoutError: .*timed out/,
  );
  h.front.clearFaults();
  assert.deepEqual(await getJson(h, BUCKET, f.key), { i: f.i });
  assert.equal(await getObject(h, BUCKET, f.outKey), undefined);
  assert.deepEqual(await listTree(f.tmp), []);
});

test('a result PutObject that never answers: retried, then exit 4, no result object', async () => {
  const f = await fresh('put-always');
  const stall = h.front.fault({ match: s3Op('PutObject', f.outKey), kind: 'stall' });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [FN, f.url] });
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.lastLine, /^PayloadIOError: could not write the result to .*in_out\.json: TimeoutError: /);
  assert.ok(stall.hits >= 2, `retried (${stall.hits} tries)`);
  h.front.clearFaults();
  assert.equal(await getObject(h, BUCKET, f.outKey), undefined);
  assert.deepEqual(await listTree(f.tmp), []);
});

test('a result PutObject that never answers once: the second try writes it', async () => {
  const f = await fresh('put-once');
  const stall = h.front.fault({ match: s3Op('PutObject', f.outKey), times: 1, kind: 'stall' });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [FN, f.url] });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(stall.hits, 1);
  assert.deepEqual(await getJson(h, BUCKET, f.outKey), { echo: { i: f.i } });
});

test('a code download stalled mid-body once is retried and the run completes; no temp files left', async () => {
  const f = await fresh('code-once');
  const stall = h.front.fault({ match: codeOf(FN), times: 1, kind: 'stall', afterBytes: 10 });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [FN, f.url] });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(stall.hits, 1);
  assert.deepEqual(await getJson(h, BUCKET, f.outKey), { echo: { i: f.i } });
  assert.deepEqual(await cacheLeftovers(f.cacheDir), []);
});

test('a code download that never answers: exit 3 naming the timeout, no cache entry', async () => {
  const f = await fresh('code-always');
  h.front.fault({ match: codeOf(FN), kind: 'stall' });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [FN, f.url] });
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.lastLine,
    /^FunctionPrepareError: could not download the code of fto-echo: no data for 1000 ms$/,
  );
  assert.deepEqual(await cacheLeftovers(f.cacheDir), []);
  assert.equal(await getObject(h, BUCKET, f.outKey), undefined);
});

test('a layer download that always stalls mid-body: exit 3 naming the layer', async () => {
  const f = await fresh('layer-always');
  h.front.fault({ match: codeOf('fto-layer:1'), kind: 'stall', afterBytes: 10 });
  const r = await runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, env, args: [LAYERED, f.url] });
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.lastLine,
    /^FunctionPrepareError: could not download the layer fto-layer:1: no data for 1000 ms$/,
  );
  assert.deepEqual(await cacheLeftovers(f.cacheDir), []);
});
