// post-batch on FAILED jobs: moto's Batch marks every job of this file FAILED (MOTO_SIMPLE_BATCH_FAIL_AFTER=0), and
// TerminateJob gives it the statusReason Batch would (a lost host, a timeout). The events are what a Catch hands the
// next state after batch:submitJob.sync failed: {…input, error: {Error: "States.TaskFailed", Cause: <the job>}}.
// moto's DescribeJobs drops what a container that never ran leaves in its attempts (attempts[].statusReason,
// attempts[].container.reason, container.exitCode): withAttempt() adds exactly those fields, and nothing else.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JobDetail } from '@aws-sdk/client-batch';
import { itemUrls } from '../../lib/item-set.js';
import { failedRecord, succeededRecord } from '../support/run-records.js';
import { BUCKET, caughtJobFailure, rejectsNamed, startWorld, type World } from './post-batch-world.js';

let w: World;
before(async () => {
  w = await startWorld({ failJobs: true });
});
after(() => w?.h.stop());

const out = (name: string) => `s3://${BUCKET}/batch/my-task/${name}_out.json`;
const recordOf = (name: string) => `s3://${BUCKET}/batch/my-task/${name}_out.run.json`;
const PLAN = { url: `s3://${BUCKET}/batch/my-task/payload.json`, image: 'lambda' };

/** The moto gap: what Batch reports in the last attempt of a job whose container did not run or did not finish. */
function withAttempt(
  job: JobDetail,
  attempt: { statusReason?: string; reason?: string; exitCode?: number },
): JobDetail {
  const last = job.attempts?.at(-1) ?? {};
  const container = { ...last.container, reason: attempt.reason, exitCode: attempt.exitCode };
  return {
    ...job,
    attempts: [
      ...(job.attempts ?? []).slice(0, -1),
      { ...last, statusReason: attempt.statusReason, container },
    ],
  };
}

test('moto reports these jobs FAILED, with the status reason TerminateJob gave', async () => {
  const job = await w.terminate(
    (await w.submit({ url_out: out('probe') })).jobId!,
    'Host EC2 (instance i-0abc) terminated.',
  );
  assert.equal(job.status, 'FAILED');
  assert.equal(job.statusReason, 'Host EC2 (instance i-0abc) terminated.');
});

test('a caught States.TaskFailed whose record says ValueError → ValueError, the name a Catch matches', async () => {
  const job = await w.submit({ url_out: out('typed') });
  await w.putRecord(
    recordOf('typed'),
    failedRecord('ValueError', 'bad band 9', {
      batch: { job_id: job.jobId!, attempt: 1, array_index: null },
    }),
  );
  await rejectsNamed(
    w.invoke(caughtJobFailure(withAttempt(job, { exitCode: 1 }), PLAN)),
    'ValueError',
    /^bad band 9$/,
  );
});

test('no record, the host lost → HostTerminatedError with the reason in the message, not UnknownError', async () => {
  const job = await w.terminate(
    (await w.submit({ url_out: out('host') })).jobId!,
    'Host EC2 (instance i-0abc) terminated.',
  );
  await rejectsNamed(
    w.invoke(caughtJobFailure(job, PLAN)),
    'HostTerminatedError',
    /failed without a run record; status reason: Host EC2 \(instance i-0abc\) terminated\./,
  );
});

test('no record, the image could not be pulled → CannotPullContainerError', async () => {
  const job = await w.terminate((await w.submit({ url_out: out('pull') })).jobId!, 'Task failed to start');
  const reason = 'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found';
  await rejectsNamed(
    w.invoke(caughtJobFailure(withAttempt(job, { statusReason: 'Task failed to start', reason }), PLAN)),
    'CannotPullContainerError',
    /container: CannotPullContainerError: pull image manifest/,
  );
});

test('no record, killed past its timeout → JobTimeoutError; {job_id} reads the same reason from DescribeJobs', async () => {
  const job = await w.terminate(
    (await w.submit({ url_out: out('timeout') })).jobId!,
    'Job attempt duration exceeded timeout',
  );
  await rejectsNamed(w.invoke({ job_id: job.jobId }), 'JobTimeoutError', /exceeded timeout/);
});

test('no record and an exit code → ContainerExitedError with the code', async () => {
  const job = await w.submit({ url_out: out('exited') });
  await rejectsNamed(
    w.invoke(
      caughtJobFailure(
        withAttempt(job, { statusReason: 'Essential container in task exited', exitCode: 137 }),
      ),
    ),
    'ContainerExitedError',
    /exit code 137/,
  );
});

test("a record left by an earlier job with the same url_out is not this job's: the status reason is used", async () => {
  const job = await w.terminate(
    (await w.submit({ url_out: out('rerun') })).jobId!,
    'Your Spot Task was interrupted.',
  );
  await w.putRecord(
    recordOf('rerun'),
    failedRecord('ValueError', 'from last week', {
      batch: { job_id: 'an-earlier-job', attempt: 1, array_index: null },
    }),
  );
  await rejectsNamed(w.invoke(caughtJobFailure(job, PLAN)), 'SpotInterruptedError');
  const warn = w.logLines.findLast((l) => l.message === 'run record of another job ignored');
  assert.equal(warn?.record_job_id, 'an-earlier-job');
});

test('a FAILED job whose record says it succeeded (its later attempt did) → the result', async () => {
  const job = await w.submit({ url_out: out('late-success') });
  const text = JSON.stringify({ done: true });
  await w.put(out('late-success'), text);
  await w.putRecord(
    recordOf('late-success'),
    succeededRecord(
      { batch: { job_id: job.jobId!, attempt: 2, array_index: null } },
      text,
      out('late-success'),
    ),
  );
  assert.deepEqual(await w.invoke(caughtJobFailure(job)), { done: true });
});

test('a failed array job → counts and the failed indexes, not an error', async () => {
  const prefix = `s3://${BUCKET}/batch/my-task/failed-set/out/`;
  const job = await w.submit({ url_out: prefix, items: 4 });
  assert.equal(job.status, 'FAILED');
  assert.equal(job.arrayProperties?.statusSummary?.FAILED, 2);
  for (const i of [0, 1, 2]) await w.put(itemUrls(prefix, i).result, { i });
  const rec = failedRecord('cirrus.lib.errors.InvalidInput', 'no assets', {
    batch: { job_id: `${job.jobId}:1`, attempt: 1, array_index: 1 },
  });
  await w.putRecord(itemUrls(prefix, 3).record, rec);
  const summary = await w.invoke(caughtJobFailure(job, PLAN));
  assert.deepEqual(summary, {
    url_out: prefix,
    item_count: 4,
    succeeded: 3,
    failed: 1,
    missing: 0,
    failed_items: [3],
    missing_items: [],
    error_types: { 'cirrus.lib.errors.InvalidInput': 1 },
  });
});

test('a failed array job where no item left anything → the status reason error', async () => {
  const prefix = `s3://${BUCKET}/batch/my-task/empty-set/out/`;
  const job = await w.terminate(
    (await w.submit({ url_out: prefix, items: 6 })).jobId!,
    'Task failed to start',
  );
  await rejectsNamed(w.invoke(caughtJobFailure(job, PLAN)), 'TaskFailedToStartError');
});
