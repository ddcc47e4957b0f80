// lambda-batch list and cancel on the harness. list: the jobs the dispatcher submitted, from its dispatch records (one
// per request with an idempotency key), newest first, by function and age, the bucket from a flag or from the
// dispatcher's own settings. cancel: TerminateJob on a running job (the executor then stops it with SIGTERM, as Batch
// does) and on an array job's unfinished children, saying how many.
// Gaps filled, each in its file: moto's TerminateJob ends nothing and its DescribeJobs knows no running job
// (harness/front-batch-jobs.ts, batch-exec.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createFunction } from './harness/fixtures.js';
import { BUCKET, type OpsWorld, startOpsWorld, TASK } from './ops-world.js';

let w: OpsWorld;
before(async () => {
  w = await startOpsWorld();
  await createFunction(w.h, { name: 'ops-other' });
});
after(() => w?.stop());

/** Polls status until the job is RUNNING (the executor has started it). */
async function untilRunning(jobId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await w.cli(['status', jobId, '--json']);
    if (JSON.parse(r.stdout).job.status === 'RUNNING') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`job ${jobId} never ran`);
}

test('list: the dispatched jobs newest first, by function and since a time; the bucket from the dispatcher', async () => {
  const first = await w.dispatch({ lambda_function: TASK, payload: { n: 1 }, idempotency_key: 'list-1' });
  await new Promise((r) => setTimeout(r, 1100));
  const since = new Date().toISOString();
  const second = await w.dispatch({
    lambda_function: 'ops-other',
    payloads: [{}, {}, {}],
    items_per_job: 2,
    idempotency_key: 'list-2',
  });
  const all = await w.cli(['list', '--bucket', BUCKET, '--json']);
  assert.equal(all.code, 0, all.stderr);
  const jobs = JSON.parse(all.stdout).jobs as {
    job_id: string;
    function: string;
    item_count: number | null;
  }[];
  assert.deepEqual(
    jobs.map((j) => [j.job_id, j.function, j.item_count]),
    [
      [second.job_id, 'ops-other', 3],
      [first.job_id, TASK, null],
    ],
  );
  const byFunction = JSON.parse(
    (await w.cli(['list', '--bucket', BUCKET, '--function', TASK, '--json'])).stdout,
  );
  assert.deepEqual(
    byFunction.jobs.map((j: { job_id: string }) => j.job_id),
    [first.job_id],
  );
  const recent = JSON.parse((await w.cli(['list', '--bucket', BUCKET, '--since', since, '--json'])).stdout);
  assert.deepEqual(
    recent.jobs.map((j: { job_id: string }) => j.job_id),
    [second.job_id],
  );
  // With no bucket given, the dispatcher's own PAYLOAD_BUCKET and PAYLOAD_PREFIX.
  const viaDispatcher = await w.cli(['list', '--limit', '1']);
  assert.equal(viaDispatcher.code, 0, viaDispatcher.stderr);
  assert.match(
    viaDispatcher.stdout,
    new RegExp(`^\\S+Z {2}${second.job_id} {2}ops-other {2}ops-other {2}3 items, 2 children\\n$`),
  );
});

test('cancel: a running job is terminated, stopped with SIGTERM, and ends FAILED with the reason', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 1, sleep: 30 } });
  const run = w.run(a.job_id);
  await untilRunning(a.job_id);
  const r = await w.cli(['cancel', a.job_id, '--reason', 'wrong input']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `terminated job ${a.job_id} (it was RUNNING)`);
  const ran = await run;
  assert.equal(ran.exitCode, 143, 'SIGTERM, as Batch stops a terminated job');
  const status = await w.cli(['status', a.job_id, '--json']);
  assert.equal(status.code, 1);
  const job = JSON.parse(status.stdout).job;
  assert.deepEqual([job.status, job.status_reason], ['FAILED', 'wrong input']);
  const again = await w.cli(['cancel', a.job_id]);
  assert.equal(again.stdout.trim(), `job ${a.job_id} had already finished (FAILED): nothing to cancel`);
});

test('cancel: an array job and its unfinished children, the finished ones left; it says how many', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payloads: [{ sleep: 30 }, {}, {}], items_per_job: 1 });
  await w.runArray(a.job_id, [1, 2]);
  const slow = w.runArray(a.job_id, [0]);
  await untilRunning(`${a.job_id}:0`);
  w.h.front.clear();
  const r = await w.cli(['cancel', a.job_id, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    job_id: a.job_id,
    status: 'RUNNING',
    terminated: true,
    children: { total: 3, terminated: 1, finished: 2 },
  });
  assert.deepEqual(
    w.h.front
      .calls('batch', 'TerminateJob')
      .map((q) => (q.body as { jobId: string }).jobId)
      .sort(),
    [a.job_id, `${a.job_id}:0`].sort(),
  );
  assert.equal((await slow)[0]!.exitCode, 143);
  const human = await w.cli(['cancel', a.job_id]);
  assert.match(human.stdout, /had already finished \(FAILED\): nothing to cancel/);
});

test('cancel and status of an unknown job: exit 2, named', async () => {
  const r = await w.cli(['cancel', '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b']);
  assert.equal(r.code, 2);
  assert.match(
    r.last,
    /^lambda-batch: there is no Batch job 0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b in us-east-1/,
  );
});
