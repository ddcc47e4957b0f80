// lambda-batch status against moto through the harness: jobs the dispatcher submitted and the executor ran (one payload
// that succeeded, one that failed, an item set with failures and missing items, a job still running), the exit code
// each gives, what the set's items came to and what the run cost, and the clear refusals: an unknown job, a URL that
// is no run record, a job the dispatcher did not plan. --region and each service's endpoint; a transient AWS error
// (exit 4) and a refusal (exit 2).
// Gaps filled, each in its file: moto's Batch runs nothing and says every job SUCCEEDED at once (the executor runs it
// and tells the front, which answers DescribeJobs as Batch would: harness/batch-exec.ts, front-batch-jobs.ts); the
// queue's Fargate compute environments need moto's default VPC (ops-world.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { putObject } from './harness/fixtures.js';
import { BUCKET, type OpsWorld, startOpsWorld, TASK } from './ops-world.js';

let w: OpsWorld;
before(async () => {
  w = await startOpsWorld();
});
after(() => w?.stop());

// A report's JSON, loosely typed: the assertions say what each field holds.
// biome-ignore lint/suspicious/noExplicitAny: the report's shape is what the assertions check
type Report = Record<string, any>;
const json = (stdout: string) => JSON.parse(stdout) as Report;

test('one payload that succeeded: SUCCEEDED, its record, and its cost on both Fargate kinds of its queue; exit 0', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 1 }, vcpus: 2, memory: 4096 });
  assert.equal((await w.run(a.job_id)).exitCode, 0);
  const r = await w.cli(['status', a.job_id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^job {7}\S+ {2}ops-task {2}\(one container\)$/m);
  assert.match(r.stdout, /^state {5}SUCCEEDED: Essential container in task exited$/m);
  assert.match(r.stdout, new RegExp(`^record {4}${a.record_url}: succeeded, exit 0$`, 'm'));
  assert.match(r.stdout, /^ {2}≈ \$0\.\d{4} on FARGATE_SPOT \(x86_64\)$/m);
  assert.match(r.stdout, /an estimate: us-east-1 prices of \d{4}-\d{2}-\d{2}, a one-minute minimum per task/);
  assert.match(r.stdout, /^outcome {3}succeeded \(exit 0\)$/m);
  const j = json((await w.cli(['status', a.job_id, '--json'])).stdout);
  assert.equal(j.job.status, 'SUCCEEDED');
  assert.equal(j.record.status, 'succeeded');
  assert.equal(j.record.job_id, a.job_id);
  assert.equal(j.record.result_url, a.url_out);
  assert.deepEqual(
    j.cost.dollars.map((d: { capacity: string }) => d.capacity),
    ['FARGATE_SPOT', 'FARGATE'],
  );
  assert.equal(j.cost.estimate, true);
  // 2 vCPUs and 4 GiB for the attempt's seconds; under a minute, so Fargate bills the minute.
  assert.ok(j.cost.vcpu_seconds > 0 && j.cost.vcpu_seconds < 120, String(j.cost.vcpu_seconds));
  assert.equal(j.cost.gib_seconds, j.cost.vcpu_seconds * 2);
  const minute = (60 / 3600) * (2 * 0.04048 + 4 * 0.004445);
  assert.ok(Math.abs(j.cost.dollars[1].usd - minute) < 1e-6, `${j.cost.dollars[1].usd} vs ${minute}`);
});

test('one payload that failed: its error from its record, exit 1; the record URL names the same job', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 2, fail: 'KeyError' } });
  assert.equal((await w.run(a.job_id)).exitCode, 1);
  const r = await w.cli(['status', a.job_id]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^state {5}FAILED: Essential container in task exited$/m);
  assert.match(r.stdout, /^ {2}error {3}KeyError: 'band 2'$/m);
  assert.match(r.stdout, /^outcome {3}failed \(exit 1\)$/m);
  const byRecord = await w.cli(['status', a.record_url, '--json']);
  assert.equal(byRecord.code, 1, byRecord.stderr);
  assert.equal(json(byRecord.stdout).job.job_id, a.job_id);
  assert.deepEqual(json(byRecord.stdout).record.error, { type: 'KeyError', message: "'band 2'" });
});

test('an item set: succeeded, failed (grouped by error type) and missing items from one listing; exit 1 whatever Batch says', async () => {
  const payloads = [
    { n: 0 },
    { n: 1, fail: 'KeyError' },
    { n: 2, fail: 'ValueError' },
    { n: 3 },
    { n: 4 },
    { n: 5 },
  ];
  const a = await w.dispatch({ lambda_function: TASK, payloads, items_per_job: 2 });
  assert.equal(a.array_size, 3);
  // Child 2 (items 4 and 5) never runs: its items are missing.
  const ran = await w.runArray(a.job_id, [0, 1]);
  assert.deepEqual(
    ran.map((c) => c.exitCode),
    [1, 1],
  );
  w.h.front.clear();
  const r = await w.cli(['status', a.job_id, '--json', '--progress']);
  assert.equal(r.code, 1, r.stderr);
  const j = json(r.stdout);
  assert.deepEqual(
    { ...j.items, failed_by_type: undefined },
    {
      expected: 6,
      succeeded: 2,
      failed: 2,
      missing: 2,
      failed_by_type: undefined,
      failed_items: [1, 2],
      missing_items: [4, 5],
    },
  );
  assert.deepEqual(j.items.failed_by_type, [
    { type: 'KeyError', count: 1, first: [1], message: "'band 1'" },
    { type: 'ValueError', count: 1, first: [2], message: 'band 2' },
  ]);
  assert.equal(j.job.array.size, 3);
  assert.equal(j.job.status, 'FAILED');
  assert.match(
    r.stderr,
    /listed \d+ objects under s3:\/\/ops-payloads\//,
    'progress on stderr with --progress',
  );
  // Only the failures' records were read, after one listing.
  const gets = w.h.front.calls('s3', 'GetObject').map((q) => q.path.split('/').at(-1));
  assert.deepEqual(gets.sort(), ['1.run.json', '2.run.json']);
  assert.equal(w.h.front.calls('s3', 'ListObjects').length, 1);
  // The cost is the children's: three of them, the two that ran for their real seconds.
  assert.equal(j.cost.attempts, 3);
  const lines = (await w.cli(['status', a.job_id])).stdout;
  assert.match(lines, /^items {5}6 under s3:\/\/\S+\/out\/: 2 succeeded, 2 failed, 2 missing$/m);
  assert.match(lines, /^ {2}KeyError ×1: 1 {2}\("'band 1'"\)$/m);
  assert.match(lines, /^ {2}missing ×2: 4, 5$/m);
  assert.match(lines, /^children {2}1 SUCCEEDED, 2 FAILED$/m);
  assert.match(
    lines,
    /^ran {7}\S+Z to \S+Z$/m,
    "an array job's attempts are its children's, counted by the cost",
  );
  // The set's output prefix names the array job through its records.
  const byPrefix = await w.cli(['status', a.url_out, '--json']);
  assert.equal(byPrefix.code, 1, byPrefix.stderr);
  assert.deepEqual([json(byPrefix.stdout).job.job_id, json(byPrefix.stdout).items.missing], [a.job_id, 2]);
});

test('a job not finished exits 75: RUNNABLE while it waits, RUNNING while it runs; 0 once it succeeded', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 7, sleep: 4 } });
  w.h.front.batchJobs.queued(a.job_id);
  const queued = await w.cli(['status', a.job_id, '--json']);
  assert.equal(queued.code, 75, queued.stderr);
  assert.deepEqual(
    [json(queued.stdout).job.status, json(queued.stdout).outcome],
    ['RUNNABLE', 'not finished'],
  );
  const running = w.run(a.job_id);
  let seen: Report | undefined;
  for (let i = 0; i < 50 && seen?.job.status !== 'RUNNING'; i++) {
    const r = await w.cli(['status', a.job_id, '--json']);
    seen = json(r.stdout);
    if (seen.job.status === 'RUNNING') assert.equal(r.code, 75);
  }
  assert.equal(seen?.job.status, 'RUNNING');
  assert.equal((await running).exitCode, 0);
  assert.equal((await w.cli(['status', a.job_id])).code, 0);
});

test('an unknown job, a URL that is no run record and one with nothing there: exit 2, each named', async () => {
  const unknown = await w.cli(['status', '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b']);
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.last,
    'lambda-batch: there is no Batch job 0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b in us-east-1 (or it is older than Batch keeps jobs)',
  );
  await putObject(w.h, BUCKET, 'elsewhere/thing.json', { hello: 1 });
  const notOurs = await w.cli(['status', `s3://${BUCKET}/elsewhere/thing.json`]);
  assert.equal(notOurs.code, 2);
  assert.match(
    notOurs.last,
    /^lambda-batch: s3:\/\/ops-payloads\/elsewhere\/thing\.json is not a run record of lambda-as-batch \(run record .*: status must be "succeeded" or "failed", got undefined\)$/,
  );
  const none = await w.cli(['status', `s3://${BUCKET}/elsewhere/none_out.run.json`]);
  assert.equal(none.code, 2);
  assert.equal(
    none.last,
    `lambda-batch: there is no run record at s3://${BUCKET}/elsewhere/none_out.run.json`,
  );
  const empty = await w.cli(['status', `s3://${BUCKET}/elsewhere/`]);
  assert.equal(empty.code, 2);
  assert.equal(empty.last, `lambda-batch: there are no run records under s3://${BUCKET}/elsewhere/`);
});

test('a Batch job the dispatcher did not plan: its state and cost, and a note that it carries no plan', async () => {
  const { jobId } = await w.h.clients.batch.send(
    new SubmitJobCommand({ jobName: 'foreign', jobQueue: 'ops-queue', jobDefinition: 'ops-run-lambda' }),
  );
  const r = await w.cli(['status', jobId!, '--json']);
  const j = json(r.stdout);
  assert.match(
    j.not_ours,
    /has no lambda_function, url and url_out parameters: it is not a job the dispatcher submitted/,
  );
  assert.equal(j.record, undefined);
  assert.equal(j.job.status, 'SUCCEEDED');
  assert.equal(r.code, 0);
});

test("--region is the clients' region, and each service's endpoint may be its own (AWS_ENDPOINT_URL_<SERVICE>)", async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 2 } });
  await w.run(a.job_id);
  const elsewhere = await w.cli(['status', a.job_id, '--region', 'eu-west-1']);
  assert.equal(elsewhere.code, 2);
  assert.match(elsewhere.last, new RegExp(`^lambda-batch: there is no Batch job ${a.job_id} in eu-west-1`));
  // Nothing listens on the general endpoint: the job is read only through the services' own.
  const front = w.h.env.AWS_ENDPOINT_URL!;
  const own = await w.cli(['status', a.job_id], {
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_BATCH: front,
    AWS_ENDPOINT_URL_S3: front,
  });
  assert.equal(own.code, 0, own.stderr);
  assert.match(own.stdout, /^outcome {3}succeeded \(exit 0\)$/m);
});

test('a transient AWS error exits 4 saying a retry may succeed; a refusal exits 2; neither is a usage error', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payloads: [{ n: 0 }, { n: 1 }], items_per_job: 1 });
  await w.runArray(a.job_id);
  const listing = (r: { service: string; operation: string }) =>
    r.service === 's3' && r.operation === 'ListObjects';
  const busy = w.h.front.fault({ match: listing, kind: 'error', status: 503, code: 'SlowDown' });
  try {
    const r = await w.cli(['status', a.job_id]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.last,
      /^lambda-batch: could not list s3:\/\/\S+\/out\/: SlowDown: .* \(a retry may succeed\)$/,
    );
    assert.doesNotMatch(r.stderr, /^Usage:/m);
    assert.ok(busy.hits >= 2, 'the SDK retried first');
  } finally {
    busy.remove();
  }
  const denied = w.h.front.fault({ match: listing, kind: 'error', status: 403, code: 'AccessDenied' });
  try {
    const r = await w.cli(['status', a.job_id]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.last, /^lambda-batch: could not list s3:\/\/\S+\/out\/: AccessDenied: /);
  } finally {
    denied.remove();
  }
  assert.equal((await w.cli(['status', a.job_id])).code, 0);
});
