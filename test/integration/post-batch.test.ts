// post-batch against jobs on moto's Batch and run records on moto's S3, over real HTTP through the harness.
// The records are built by hand as docs/runner.md "Run records" defines them (test/support/run-records.ts). Events are
// what Step Functions hands over after batch:submitJob.sync, built from moto's own DescribeJobs answer
// (asStepFunctionsOutput), or {job_id}, which post-batch describes on moto itself. moto's Batch runs no container
// and marks every job SUCCEEDED here; post-batch-failures.test.ts has FAILED jobs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Context } from 'aws-lambda';
import { readConfig } from '../../functions/post-batch/config.js';
import { createHandler } from '../../functions/post-batch/handler.js';
import { type Fetched, type OutputReader, s3Reader } from '../../functions/post-batch/reader.js';
import { itemUrls } from '../../lib/item-set.js';
import { createJsonLogger } from '../../lib/logger.js';
import { failedRecord, succeededRecord } from '../support/run-records.js';
import {
  asStepFunctionsOutput,
  BUCKET,
  CONTEXT,
  POST_BATCH_BUNDLE,
  rejectsNamed,
  startWorld,
  type World,
} from './post-batch-world.js';

let w: World;
before(async () => {
  w = await startWorld();
});
after(() => w?.h.stop());

const out = (name: string) => `s3://${BUCKET}/batch/my-task/${name}_out.json`;
const recordOf = (name: string) => `s3://${BUCKET}/batch/my-task/${name}_out.run.json`;

/** A job whose run wrote `result` and a succeeded record for it. */
async function succeededJob(name: string, result: unknown) {
  const job = await w.submit({ url_out: out(name) });
  const text = JSON.stringify(result);
  await w.put(out(name), text);
  await w.putRecord(
    recordOf(name),
    succeededRecord({ batch: { job_id: job.jobId!, attempt: 1, array_index: null } }, text, out(name)),
  );
  return job;
}

test("batch:submitJob.sync's output for a job whose record says succeeded → the result itself", async () => {
  const result = { type: 'FeatureCollection', features: [{ id: 'item-1' }] };
  const job = await succeededJob('inline', result);
  assert.deepEqual(await w.invoke(asStepFunctionsOutput(job)), result);
});

test('{job_id} → post-batch asks DescribeJobs (on moto) and answers with the same result', async () => {
  const result = { id: 'item-2', process: { tasks: {} } };
  const job = await succeededJob('by-id', result);
  w.h.front.clear();
  assert.deepEqual(await w.invoke({ job_id: job.jobId }), result);
  assert.equal(w.h.front.calls('batch', 'DescribeJobs').length, 1);
});

test('a result whose JSON is over MAX_INLINE_RESULT (default 120,000) characters → {url} pointing at url_out', async () => {
  const job = await succeededJob('large', { blob: 'x'.repeat(120_000) });
  assert.deepEqual(await w.invoke(asStepFunctionsOutput(job)), { url: out('large') });
});

test('a result of exactly MAX_INLINE_RESULT characters still goes inline', async () => {
  const job = await succeededJob('edge', { b: 'x'.repeat(100 - 8) });
  assert.equal(JSON.stringify({ b: 'x'.repeat(92) }).length, 100);
  assert.deepEqual(await w.invoke(asStepFunctionsOutput(job), { MAX_INLINE_RESULT: '100' }), {
    b: 'x'.repeat(92),
  });
  assert.deepEqual(await w.invoke(asStepFunctionsOutput(job), { MAX_INLINE_RESULT: '99' }), {
    url: out('edge'),
  });
});

test('the limit counts characters, not bytes: 60 three-byte characters fit a limit of 70', async () => {
  const result = { s: '€'.repeat(60) };
  const job = await succeededJob('utf8', result);
  assert.ok(Buffer.byteLength(JSON.stringify(result)) > 70);
  assert.deepEqual(await w.invoke(asStepFunctionsOutput(job), { MAX_INLINE_RESULT: '70' }), result);
});

test('a result of more than 4 × the limit in bytes is not read: its size alone says it cannot fit', async () => {
  const job = await succeededJob('huge', { blob: 'y'.repeat(600_000) });
  const reader = s3Reader(w.h.frontClients.s3);
  const fetched: (Fetched | undefined)[] = [];
  const watched: OutputReader = {
    list: reader.list,
    get: async (url, max) => {
      const f = await reader.get(url, max);
      if (url === out('huge')) fetched.push(f);
      return f;
    },
  };
  const handler = createHandler({
    ...w.h.frontClients,
    config: readConfig({}),
    reader: watched,
    logger: createJsonLogger({ service: 'post-batch', level: 'silent' }),
  });
  assert.deepEqual(await handler(asStepFunctionsOutput(job), CONTEXT), { url: out('huge') });
  assert.equal(fetched.length, 1);
  assert.ok(fetched[0] && 'tooLarge' in fetched[0], 'the body was read');
});

test('a record that says failed → post-batch throws an error whose name is its errorType (ValueError)', async () => {
  const job = await w.submit({ url_out: out('value-error') });
  await w.putRecord(
    recordOf('value-error'),
    failedRecord('ValueError', 'bad band 9', {
      batch: { job_id: job.jobId!, attempt: 1, array_index: null },
    }),
  );
  const err = await rejectsNamed(w.invoke(asStepFunctionsOutput(job)), 'ValueError', /^bad band 9$/);
  assert.match(err.stack ?? '', /File "task.py", line 3, in handler/);
});

test("a Cirrus error type (cirrus.lib.errors.InvalidInput) comes back as the thrown error's name", async () => {
  const job = await w.submit({ url_out: out('invalid-input') });
  await w.putRecord(
    recordOf('invalid-input'),
    failedRecord('cirrus.lib.errors.InvalidInput', 'no items', {
      batch: { job_id: job.jobId!, attempt: 1, array_index: null },
    }),
  );
  await rejectsNamed(w.invoke({ job_id: job.jobId }), 'cirrus.lib.errors.InvalidInput', /no items/);
  const line = w.logLines.findLast((l) => l.message === 'job failed');
  assert.equal(line?.error_type, 'cirrus.lib.errors.InvalidInput');
  assert.equal(line?.level, 'INFO');
});

test('a malformed record → InvalidRunRecordError naming the record and the field', async () => {
  const job = await w.submit({ url_out: out('malformed') });
  await w.put(recordOf('malformed'), { status: 'done', exit_code: 0 });
  await rejectsNamed(
    w.invoke(asStepFunctionsOutput(job)),
    'InvalidRunRecordError',
    /run record s3:\/\/pb-data\/batch\/my-task\/malformed_out\.run\.json: status must be "succeeded" or "failed"/,
  );
  await w.put(recordOf('malformed'), '{"status": "succ');
  await rejectsNamed(w.invoke(asStepFunctionsOutput(job)), 'InvalidRunRecordError', /is not JSON/);
});

test('a job id Batch does not know → JobNotFoundError', async () => {
  await rejectsNamed(
    w.invoke({ job_id: '00000000-0000-4000-8000-00000000dead' }),
    'JobNotFoundError',
    /no job 00000000/,
  );
});

test('a result other than the one the record describes → ResultMismatchError', async () => {
  const job = await succeededJob('mismatch', { n: 1 });
  await w.put(out('mismatch'), JSON.stringify({ n: 2 }));
  await rejectsNamed(
    w.invoke(asStepFunctionsOutput(job)),
    'ResultMismatchError',
    /SHA-256 [0-9a-f]{64}; its run record says/,
  );
  await w.put(out('mismatch'), JSON.stringify({ n: 10 }));
  await rejectsNamed(
    w.invoke(asStepFunctionsOutput(job)),
    'ResultMismatchError',
    /has 8 bytes; its run record says 7/,
  );
});

test('a record that says succeeded with no result at url_out → ResultMissingError', async () => {
  const job = await w.submit({ url_out: out('gone') });
  await w.putRecord(
    recordOf('gone'),
    succeededRecord({ batch: { job_id: job.jobId!, attempt: 1, array_index: null } }),
  );
  await rejectsNamed(
    w.invoke(asStepFunctionsOutput(job)),
    'ResultMissingError',
    /no result at s3:\/\/pb-data/,
  );
});

test('a result that is not JSON → ResultNotJsonError', async () => {
  const job = await w.submit({ url_out: out('not-json') });
  await w.put(out('not-json'), 'not json');
  await w.putRecord(
    recordOf('not-json'),
    succeededRecord(
      { batch: { job_id: job.jobId!, attempt: 1, array_index: null } },
      'not json',
      out('not-json'),
    ),
  );
  await rejectsNamed(w.invoke(asStepFunctionsOutput(job)), 'ResultNotJsonError');
});

test('a succeeded job from a runner that writes no record → the result at url_out', async () => {
  const job = await w.submit({ url_out: out('legacy') });
  await w.put(out('legacy'), { legacy: true });
  assert.deepEqual(await w.invoke(asStepFunctionsOutput(job)), { legacy: true });
  const empty = await w.submit({ url_out: out('legacy-empty') });
  await rejectsNamed(
    w.invoke(asStepFunctionsOutput(empty)),
    'ResultMissingError',
    /neither a run record nor a result/,
  );
});

test('a job without a url_out parameter, or with one that is not s3://, → InvalidJobError', async () => {
  const job = await w.submit({ url_out: out('x'), parameters: { url_out: 'file:///tmp/out.json' } });
  await rejectsNamed(
    w.invoke({ job_id: job.jobId }),
    'InvalidJobError',
    /url_out "file:\/\/\/tmp\/out\.json" is not an s3:\/\/ URL/,
  );
  const sfn = asStepFunctionsOutput(job);
  sfn.Parameters = {};
  await rejectsNamed(w.invoke(sfn), 'InvalidJobError', /has no url_out parameter/);
});

test('an item set job → counts, failed and missing indexes and error types, from the per-item records', async () => {
  const prefix = `s3://${BUCKET}/batch/my-task/set-1/out/`;
  const job = await w.submit({ url_out: prefix, items: 5 });
  assert.equal(job.arrayProperties?.size, 3);
  for (const i of [0, 1, 3]) {
    const u = itemUrls(prefix, i);
    const text = JSON.stringify({ item: i });
    await w.put(u.result, text);
    await w.putRecord(
      u.record,
      succeededRecord(
        {
          batch: { job_id: `${job.jobId}:${Math.floor(i / 2)}`, attempt: 1, array_index: Math.floor(i / 2) },
        },
        text,
        u.result,
      ),
    );
  }
  const two = itemUrls(prefix, 2);
  const failed = failedRecord('ValueError', 'bad band', {
    batch: { job_id: `${job.jobId}:1`, attempt: 1, array_index: 1 },
  });
  await w.putRecord(two.record, failed);
  await w.put(two.error, failed.error);
  // Items past the count and other names under the prefix are not items of this set.
  await w.put(`${prefix}5.json`, {});
  await w.put(`${prefix}notes.txt`, 'x');
  assert.deepEqual(await w.invoke(asStepFunctionsOutput(job)), {
    url_out: prefix,
    item_count: 5,
    succeeded: 3,
    failed: 1,
    missing: 1,
    failed_items: [2],
    missing_items: [4],
    error_types: { ValueError: 1 },
  });
  const line = w.logLines.findLast((l) => l.message === 'item set');
  assert.equal(line?.failed, 1);
});

test('an item set: an item with only its error part, and one whose record is malformed, count as failed', async () => {
  const prefix = `s3://${BUCKET}/batch/my-task/set-2/out/`;
  const job = await w.submit({ url_out: prefix, items: 3 });
  await w.put(itemUrls(prefix, 0).error, { errorType: 'KeyError', errorMessage: "'bbox'", stackTrace: [] });
  await w.put(itemUrls(prefix, 1).record, { status: 'weird' });
  await w.put(itemUrls(prefix, 2).result, { ok: 1 });
  const summary = (await w.invoke({ job_id: job.jobId })) as Record<string, unknown>;
  assert.deepEqual(summary.failed_items, [0, 1]);
  assert.deepEqual(summary.error_types, { KeyError: 1, InvalidRunRecordError: 1 });
  assert.equal(summary.succeeded, 1);
});

test('the built bundle (dist/post-batch/index.mjs) answers as the source does and throws the errorType', async () => {
  Object.assign(process.env, w.h.env);
  const { handlerFromEnv } = (await import(POST_BATCH_BUNDLE)) as {
    handlerFromEnv(env: Record<string, string | undefined>): (e: unknown, c: Context) => Promise<unknown>;
  };
  const handler = handlerFromEnv({ ...process.env, LOG_LEVEL: 'silent' });
  const job = await succeededJob('bundle', { from: 'bundle' });
  assert.deepEqual(await handler({ job_id: job.jobId }, { awsRequestId: 'r' } as Context), {
    from: 'bundle',
  });
  const bad = await w.submit({ url_out: out('bundle-bad') });
  await w.putRecord(
    recordOf('bundle-bad'),
    failedRecord('ValueError', 'no', { batch: { job_id: bad.jobId!, attempt: 1, array_index: null } }),
  );
  await rejectsNamed(handler(asStepFunctionsOutput(bad), {} as Context), 'ValueError');
  await rejectsNamed(
    handlerFromEnv({ ...process.env, MAX_INLINE_RESULT: 'lots' })({}, {} as Context),
    'ConfigError',
    /MAX_INLINE_RESULT must be a non-negative integer/,
  );
});

test("the built bundle's calls are bounded by NETWORK_TIMEOUT: a DescribeJobs that never answers is a ReadError, not a hang", async () => {
  Object.assign(process.env, w.h.env);
  const { handlerFromEnv } = (await import(POST_BATCH_BUNDLE)) as {
    handlerFromEnv(env: Record<string, string | undefined>): (e: unknown, c: Context) => Promise<unknown>;
  };
  const handler = handlerFromEnv({ ...process.env, LOG_LEVEL: 'silent', NETWORK_TIMEOUT: '2' });
  const job = await succeededJob('silent-batch', { ok: true });
  const stall = w.h.front.fault({
    match: (r) => r.service === 'batch' && r.operation === 'DescribeJobs',
    kind: 'stall',
  });
  try {
    await rejectsNamed(
      handler({ job_id: job.jobId }, { awsRequestId: 'r' } as Context),
      'ReadError',
      /timed out/,
    );
    assert.ok(stall.hits >= 1);
  } finally {
    stall.remove();
  }
  assert.deepEqual(await handler({ job_id: job.jobId }, { awsRequestId: 'r' } as Context), { ok: true });
});

test('no result contents and no error messages reach log lines above debug', async () => {
  const secret = 'SECRET-CONTENT-42';
  const job = await succeededJob('quiet', { secret });
  const bad = await w.submit({ url_out: out('quiet-bad') });
  await w.putRecord(
    recordOf('quiet-bad'),
    failedRecord('ValueError', secret, { batch: { job_id: bad.jobId!, attempt: 1, array_index: null } }),
  );
  w.logLines.length = 0;
  await w.invoke(asStepFunctionsOutput(job));
  await w.invoke({ job_id: bad.jobId }).catch(() => undefined);
  const above = w.logLines.filter((l) => l.level !== 'DEBUG');
  assert.ok(above.length >= 2);
  assert.ok(!JSON.stringify(above).includes(secret), JSON.stringify(above));
  assert.ok(JSON.stringify(w.logLines).includes(secret), 'at debug the event and the error are logged');
});
