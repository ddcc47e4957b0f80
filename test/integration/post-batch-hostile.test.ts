// What a hostile or broken input does to post-batch, against jobs on moto's Batch and objects on moto's S3: a job of
// another stack, a url_out outside the places the stack reads, a record whose hashes lie, a Cause that is not JSON,
// a result or record that is not JSON. Each is a clear error of a documented type, nothing is read from where it
// should not be, and no payload or result text reaches an error message or a log line above debug.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { succeededRecord } from '../support/run-records.js';
import { createBucket } from './harness/fixtures.js';
import {
  asStepFunctionsOutput,
  BUCKET,
  caughtJobFailure,
  rejectsNamed,
  startWorld,
  type World,
} from './post-batch-world.js';

let w: World;
before(async () => {
  w = await startWorld();
  await createBucket(w.h, 'other-stack-payloads');
  await createBucket(w.h, 'cirrus-data');
});
after(() => w?.h.stop());

/** The environment template.yaml gives post-batch: the payload place and OutputBucketArns. */
const STACK_ENV = {
  PAYLOAD_BUCKET: BUCKET,
  PAYLOAD_PREFIX: 'batch/',
  OUTPUT_BUCKET_ARNS: 'arn:aws:s3:::cirrus-data',
};
const SECRET = 'tok-5ecret-do-not-log';
/** What must never show: V8 quotes only a window of a long input, so a piece of it. */
const PIECE = '5ecret';

/** A job that wrote `result` at `urlOut` and a succeeded record for it. */
async function finishedJob(urlOut: string, result: unknown) {
  const job = await w.submit({ url_out: urlOut });
  const text = JSON.stringify(result);
  await w.put(urlOut, text);
  await w.putRecord(
    urlOut.replace(/\.json$/, '.run.json'),
    succeededRecord({ batch: { job_id: job.jobId!, attempt: 1, array_index: null } }, text, urlOut),
  );
  return job;
}

/** Asserts no log line above debug, and no message of `errors`, carries a piece of SECRET. */
function noSecretAboveDebug(errors: Error[]) {
  const above = JSON.stringify(w.logLines.filter((l) => l.level !== 'DEBUG'));
  for (const text of [above, ...errors.map((e) => `${e.message}\n${e.stack}`)])
    assert.ok(!text.includes(PIECE), `the secret is in: ${text.slice(0, 400)}`);
}

test("a job of another stack ({job_id} or its description): InvalidJobError naming its url_out and this stack's places; nothing read there", async () => {
  const foreign = [
    await finishedJob('s3://other-stack-payloads/batch/my-task/theirs_out.json', { theirs: SECRET }),
    await finishedJob(`s3://${BUCKET}/other-stack/my-task/theirs_out.json`, { theirs: SECRET }),
  ];
  for (const job of foreign)
    for (const event of [{ job_id: job.jobId }, asStepFunctionsOutput(job)]) {
      w.h.front.clear();
      const err = await rejectsNamed(
        w.invoke(event, STACK_ENV),
        'InvalidJobError',
        /url_out s3:\/\/\S+ is outside the places this post-batch reads \(s3:\/\/pb-data\/batch\/, s3:\/\/cirrus-data\/\): a job of another stack/,
      );
      assert.ok(err.message.includes(job.parameters!.url_out!));
      assert.deepEqual(w.h.front.calls('s3'), [], 'nothing was read');
    }
  // The stack's own prefix and the OutputBucketArns buckets are read as before.
  const own = await finishedJob(`s3://${BUCKET}/batch/my-task/ours_out.json`, { ours: 1 });
  assert.deepEqual(await w.invoke({ job_id: own.jobId }, STACK_ENV), { ours: 1 });
  const cirrus = await finishedJob('s3://cirrus-data/workflow/item-1/out.json', { cirrus: 1 });
  assert.deepEqual(await w.invoke(asStepFunctionsOutput(cirrus), STACK_ENV), { cirrus: 1 });
});

test('a url_out with a . or .. segment, even inside the prefix: InvalidJobError, nothing read', async () => {
  const job = await finishedJob(`s3://${BUCKET}/batch/my-task/../../elsewhere/x_out.json`, { x: 1 });
  w.h.front.clear();
  await rejectsNamed(
    w.invoke({ job_id: job.jobId }, STACK_ENV),
    'InvalidJobError',
    /holds a \. or \.\. segment/,
  );
  await rejectsNamed(w.invoke({ job_id: job.jobId }), 'InvalidJobError', /holds a \. or \.\. segment/);
  assert.deepEqual(w.h.front.calls('s3'), []);
});

test('a record whose hash lies about a result of the same size: ResultMismatchError with both hashes and no result text', async () => {
  const url = `s3://${BUCKET}/batch/my-task/lying_out.json`;
  const job = await finishedJob(url, { token: 'innocent-value-x' });
  await w.put(url, JSON.stringify({ token: `${SECRET.slice(0, 16)}` }));
  w.logLines.length = 0;
  const err = await rejectsNamed(
    w.invoke(asStepFunctionsOutput(job), STACK_ENV),
    'ResultMismatchError',
    /has SHA-256 [0-9a-f]{64}; its run record says [0-9a-f]{64}$/,
  );
  noSecretAboveDebug([err]);
});

test('a result or a record that is not JSON: the error says where the parser stopped, never a word of it', async () => {
  const url = `s3://${BUCKET}/batch/my-task/garbled_out.json`;
  const job = await w.submit({ url_out: url });
  const text = `${SECRET} is not JSON`;
  await w.put(url, text);
  await w.putRecord(
    url.replace(/\.json$/, '.run.json'),
    succeededRecord({ batch: { job_id: job.jobId!, attempt: 1, array_index: null } }, text, url),
  );
  w.logLines.length = 0;
  const errors = [
    await rejectsNamed(
      w.invoke({ job_id: job.jobId }, STACK_ENV),
      'ResultNotJsonError',
      /is not JSON \(\d+ characters/,
    ),
  ];
  await w.put(url.replace(/\.json$/, '.run.json'), `{"status": "succeeded", "note": ${SECRET}}`);
  errors.push(
    await rejectsNamed(
      w.invoke({ job_id: job.jobId }, STACK_ENV),
      'InvalidRunRecordError',
      /is not JSON \(\d+ characters/,
    ),
  );
  noSecretAboveDebug(errors);
});

test('a Cause that is not JSON: plain text is passed on under its name; a job description cut short is read by its job id; cut JSON without one is InvalidEventError, quoting none of it', async () => {
  // Plain text, as SubmitJob's refusals are: the named error, its text as the message (documented).
  const refused = {
    error: { Error: 'Batch.AWSBatchException', Cause: 'Too Many Requests (Service: AWSBatch)' },
  };
  await rejectsNamed(w.invoke(refused, STACK_ENV), 'Batch.AWSBatchException', /^Too Many Requests/);

  // A job description Step Functions cut at 32,768 characters: the job is described afresh and its record read.
  const url = `s3://${BUCKET}/batch/my-task/cut_out.json`;
  const job = await finishedJob(url, { done: true });
  const whole = (caughtJobFailure(job).error as { Cause: string }).Cause;
  const cut = `${whole.slice(0, -5)},"Pad":"${SECRET}`;
  const padded = { error: { Error: 'States.TaskFailed', Cause: cut } };
  w.logLines.length = 0;
  w.h.front.clear();
  assert.deepEqual(await w.invoke(padded, STACK_ENV), { done: true });
  assert.equal(w.h.front.calls('batch', 'DescribeJobs').length, 1, 'described by the id in the cut Cause');

  // Cut JSON that names no job: refused by name, none of its text in the message.
  const errors = [
    await rejectsNamed(
      w.invoke(
        { error: { Error: 'States.TaskFailed', Cause: `{"Parameters":{"url":"data:,${SECRET}` } },
        STACK_ENV,
      ),
      'InvalidEventError',
      /^error\.Cause: starts as JSON but is not JSON \(\d+ characters[^)]*\), and names no job id/,
    ),
  ];
  noSecretAboveDebug(errors);
});
