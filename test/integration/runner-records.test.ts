// Run records of single runs, on moto through the harness: present and true after a success, a handler error, a
// timeout (124), a SIGTERM (143), a checksum refusal (3) and a payload that is not JSON (2): hashes match the bytes on
// S3, code_sha256 is GetFunction's, timings in order, the request id the handler saw, no payload contents inside.
// Written after the result, one PutObject; a record that cannot be written changes nothing but a warning.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { GetFunctionCommand, GetLayerVersionCommand } from '@aws-sdk/client-lambda';
import { parseRunRecordJson, type RunRecord } from '../../lib/run-record.js';
import { runLambda, withRunnerHarness } from '../faults/support.js';
import { ACCOUNT_ID, createFunction, createLayer, getObject, putObject, REGION } from './harness/fixtures.js';
import type { Harness, RecordedRequest } from './harness/index.js';

const BUCKET = 'runner-records';
const SECRET = 'PAYLOAD-SECRET-7f3a';
const HANDLER = `import os, sys, time

def lambda_handler(event, context):
    if event.get("fail"):
        raise ValueError("tile %s has no bands" % event["tile"])
    if event.get("sleep"):
        print("handler started", file=sys.stderr, flush=True)
        time.sleep(event["sleep"])
    return {"tile": event.get("tile"), "request_id": context.aws_request_id, "answer": "r" * 3000}
`;

let h: Harness;
let dir: string;
let layerArn: string;
const version = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const hexOf = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

withRunnerHarness({ prefix: 'runner-records-', bucket: BUCKET }, async (started) => {
  ({ h, dir } = started);
  layerArn = await createLayer(h, 'rec-layer', { 'python/recdep.py': 'X = 1\n' });
  await createFunction(h, { name: 'rec-task', files: { 'lambda_function.py': HANDLER }, layers: [layerArn] });
});

let n = 0;
async function runCase(
  name: string,
  event: unknown,
  opts: { args?: string[]; env?: Record<string, string> } = {},
) {
  const key = `${name}/in.json`;
  await putObject(h, BUCKET, key, typeof event === 'string' ? event : JSON.stringify(event));
  h.front.clear();
  const i = ++n;
  let sent = false;
  const r = await runLambda({
    h,
    tmp: join(dir, `tmp-${i}`),
    cacheDir: join(dir, `cache-${i}`),
    env: opts.env,
    args: [...(opts.args ?? []), 'rec-task', `s3://${BUCKET}/${key}`, `s3://${BUCKET}/${name}/out.json`],
    onStderr(text, child) {
      if (name.startsWith('term') && !sent && text.includes('handler started')) {
        sent = true;
        child.kill('SIGTERM');
      }
    },
  });
  const raw = await getObject(h, BUCKET, `${name}/out.run.json`);
  const record = raw ? parseRunRecordJson(raw.toString('utf8'), `${name}/out.run.json`) : undefined;
  return {
    r,
    raw: raw?.toString('utf8') ?? '',
    record,
    payload: (await getObject(h, BUCKET, key)) as Buffer,
    result: await getObject(h, BUCKET, `${name}/out.json`),
  };
}

async function deployed() {
  const fn = await h.clients.lambda.send(new GetFunctionCommand({ FunctionName: 'rec-task' }));
  const layer = await h.clients.lambda.send(
    new GetLayerVersionCommand({ LayerName: layerArn.replace(/:\d+$/, ''), VersionNumber: 1 }),
  );
  return { code: hexOf(fn.Configuration?.CodeSha256 ?? ''), layer: hexOf(layer.Content?.CodeSha256 ?? '') };
}

/** What every record of rec-task holds, whatever the ending. */
async function assertCommon(rec: RunRecord | undefined, payload: Buffer, raw: string): Promise<RunRecord> {
  assert.ok(rec, 'a run record');
  const { code, layer } = await deployed();
  assert.deepEqual(rec.function, {
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:rec-task`,
    version: '$LATEST',
    runtime: 'python3.12',
    handler: 'lambda_function.lambda_handler',
    code_sha256: code,
    architecture: 'x86_64',
  });
  assert.deepEqual(rec.layers, [{ arn: layerArn, code_sha256: layer }]);
  assert.deepEqual(rec.runner, { version, image_runtime: null, architecture: 'x86_64' });
  assert.deepEqual(rec.payload, {
    url: rec.payload?.url,
    bytes: payload.length,
    sha256: sha256(payload),
  });
  const t = rec.timings;
  const times = [t.started, t.prepared, t.initialized, t.finished].filter((x) => x !== null).map(Date.parse);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'timings in order',
  );
  assert.ok(!raw.includes(SECRET), 'no payload contents in the record');
  return rec;
}

test('record after a success: every field true, written after the result with one PutObject, the batch part from Batch', async () => {
  const { r, record, payload, result, raw } = await runCase(
    'ok',
    { tile: 'ok', secret: SECRET },
    { env: { AWS_BATCH_JOB_ID: 'job-123', AWS_BATCH_JOB_ATTEMPT: '2' } },
  );
  assert.equal(r.code, 0, r.stderr);
  const rec = await assertCommon(record, payload, raw);
  assert.equal(rec.status, 'succeeded');
  assert.equal(rec.exit_code, 0);
  assert.equal(rec.payload?.url, `s3://${BUCKET}/ok/in.json`);
  assert.ok(result);
  assert.deepEqual(rec.result, {
    url: `s3://${BUCKET}/ok/out.json`,
    bytes: result.length,
    sha256: sha256(result),
  });
  assert.equal(rec.request_id, JSON.parse(result.toString()).request_id, 'the request id the handler saw');
  assert.deepEqual(rec.batch, { job_id: 'job-123', attempt: 2, array_index: null });
  assert.ok(rec.timings.prepared && rec.timings.initialized, 'prepared and initialized');
  assert.equal(rec.error, undefined);
  const puts = h.front.calls('s3', 'PutObject').map((p: RecordedRequest) => p.path);
  assert.deepEqual(
    puts,
    [`/${BUCKET}/ok/out.json`, `/${BUCKET}/ok/out.run.json`],
    'the result, then the record',
  );
});

test('record after a handler error: exit 1, the function error with its stack, no result; the last line as before', async () => {
  const { r, record, payload, result, raw } = await runCase('fail', {
    tile: 'x9',
    fail: true,
    secret: SECRET,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.lastLine, 'ValueError: tile x9 has no bands');
  assert.equal(result, undefined);
  const rec = await assertCommon(record, payload, raw);
  assert.equal(rec.status, 'failed');
  assert.equal(rec.exit_code, 1);
  assert.equal(rec.error?.errorType, 'ValueError');
  assert.equal(rec.error?.errorMessage, 'tile x9 has no bands');
  assert.ok(
    rec.error?.stackTrace.some((l) => l.includes('lambda_function.py')),
    'the handler stack',
  );
  assert.equal(rec.result, undefined);
  assert.match(String(rec.request_id), /^[0-9a-f-]{36}$/);
});

test('record after a timeout: exit 124, TimeoutError, the request id and the runtime initialized', async () => {
  const { r, record, payload, raw } = await runCase(
    'timeout',
    { sleep: 30, secret: SECRET },
    { args: ['--timeout', '2'] },
  );
  assert.equal(r.code, 124, r.stderr);
  const rec = await assertCommon(record, payload, raw);
  assert.deepEqual([rec.status, rec.exit_code, rec.error?.errorType], ['failed', 124, 'TimeoutError']);
  assert.equal(rec.error?.errorMessage, 'the function timed out after 2 s');
  assert.deepEqual(rec.error?.stackTrace, []);
  assert.ok(rec.request_id && rec.timings.initialized);
});

test('record after a SIGTERM: exit 143, StoppedBySignalError', async () => {
  const { r, record, payload, raw } = await runCase('term', { sleep: 30, secret: SECRET });
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.lastLine, 'StoppedBySignalError: stopped by SIGTERM');
  const rec = await assertCommon(record, payload, raw);
  assert.deepEqual([rec.exit_code, rec.error?.errorType], [143, 'StoppedBySignalError']);
});

test('record after a checksum refusal: exit 3, GetFunction’s code_sha256, nothing prepared or initialized', async () => {
  const fault = h.front.codeFault('rec-task', { kind: 'wrong-bytes' });
  try {
    const { r, record } = await runCase('checksum', { secret: SECRET });
    assert.equal(r.code, 3, r.stderr);
    assert.ok(record);
    assert.deepEqual([record.exit_code, record.error?.errorType], [3, 'ChecksumMismatchError']);
    assert.equal(record.function.code_sha256, (await deployed()).code);
    assert.equal(record.function.arn, `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:rec-task`);
    assert.deepEqual(
      [record.timings.prepared, record.timings.initialized, record.request_id],
      [null, null, null],
    );
  } finally {
    fault.remove();
  }
});

test('record after a payload that is not JSON: exit 2 (the output was valid), InvalidPayloadError, no payload text', async () => {
  const { r, record, payload, raw } = await runCase('notjson', `{"secret": "${SECRET}", oops}`);
  assert.equal(r.code, 2, r.stderr);
  const rec = await assertCommon(record, payload, raw);
  assert.deepEqual([rec.exit_code, rec.error?.errorType], [2, 'InvalidPayloadError']);
});

test('a record that cannot be written is a warning: the exit code and the last line stand', async () => {
  const isRecord = (q: RecordedRequest) => q.operation === 'PutObject' && q.path.endsWith('.run.json');
  const fault = h.front.fault({ match: isRecord, kind: 'error', status: 500 });
  try {
    const ok = await runCase('rec-fail-ok', { tile: 1 });
    assert.equal(ok.r.code, 0, ok.r.stderr);
    assert.ok(ok.result, 'the result is written');
    assert.match(
      ok.r.stderr,
      /warning: the run record was not written to s3:\/\/runner-records\/rec-fail-ok\/out\.run\.json/,
    );
    const bad = await runCase('rec-fail-err', { tile: 2, fail: true });
    assert.equal(bad.r.code, 1, bad.r.stderr);
    assert.equal(bad.r.lastLine, 'ValueError: tile 2 has no bands');
    assert.ok(fault.hits >= 2);
  } finally {
    fault.remove();
  }
});

test('no record where the output is not valid: a bucket without a key is exit 2 with nothing written', async () => {
  await putObject(h, BUCKET, 'badout/in.json', {});
  h.front.clear();
  const r = await runLambda({
    h,
    tmp: join(dir, 'tmp-badout'),
    cacheDir: join(dir, 'cache-badout'),
    args: ['rec-task', `s3://${BUCKET}/badout/in.json`, `s3://${BUCKET}`],
  });
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(h.front.calls('s3', 'PutObject'), []);
});
