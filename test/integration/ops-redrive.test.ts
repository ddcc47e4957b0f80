// lambda-batch redrive, end to end on the harness: an item set with failed and missing items → the failed and missing
// indexes written beside the set → the dispatcher (its Invoke served in this process, as deployed) submits one array
// job over them → the executor runs it → the runner serves only those items → status says 0 for both jobs, and the
// new records name the job they redrive. And a single job run again, the refusals (a job still running, a child's
// id, no dispatcher), --dry-run, and "nothing to redrive".
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { RUN_LAMBDA_ITEM_INDEXES, RUN_LAMBDA_REDRIVE_OF } from '../../lib/job-plan.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { getJson, getObject } from './harness/fixtures.js';
import { BUCKET, type OpsWorld, startOpsWorld, TASK } from './ops-world.js';

let w: OpsWorld;
before(async () => {
  w = await startOpsWorld();
});
after(() => w?.stop());

const read = (url: string) => {
  const { bucket, key } = parseS3Url(url);
  return getJson(w.h, bucket, key);
};
const submits = () => w.h.front.calls('batch', 'SubmitJob').map((r) => r.body as SubmitJobCommandInput);

/** The redrive made one SubmitJob, through the dispatcher, as the original (queue, name, resources) plus its list. */
function assertOneSubmit(setUrl: string, jobId: string): void {
  const [submitted, ...more] = submits();
  assert.equal(more.length, 0, 'one job');
  assert.deepEqual(submitted!.arrayProperties, { size: 2 });
  assert.equal(submitted!.jobQueue, w.queueArn);
  assert.equal(submitted!.jobName, 'ops-task');
  const env = Object.fromEntries(submitted!.containerOverrides!.environment!.map((e) => [e.name, e.value]));
  assert.equal(env[RUN_LAMBDA_ITEM_INDEXES], `${setUrl}redrive-1.json`);
  assert.equal(env[RUN_LAMBDA_REDRIVE_OF], jobId);
  assert.deepEqual(submitted!.containerOverrides!.resourceRequirements, [
    { type: 'VCPU', value: '1' },
    { type: 'MEMORY', value: '3072' },
  ]);
  const invoked = w.h.front.calls('lambda', 'Invoke')[0]!.body as { idempotency_key: string };
  assert.equal(invoked.idempotency_key, `redrive-${jobId}-1`);
}

test('an item set redriven: only its failed and missing items run again, and both jobs end with status 0', async () => {
  const fixed = join(w.dir, 'fixed-set');
  const payloads = [
    { n: 0 },
    { n: 1, fail: 'KeyError', fixed },
    { n: 2, fail: 'ValueError', fixed },
    { n: 3 },
    { n: 4 },
    { n: 5 },
  ];
  const a = await w.dispatch({ lambda_function: TASK, payloads, items_per_job: 2, memory: 3072 });
  w.h.front.batchJobs.queued(a.job_id);
  const running = await w.cli(['redrive', a.job_id]);
  assert.equal(running.code, 2);
  assert.equal(
    running.last,
    `lambda-batch: job ${a.job_id} is RUNNABLE: a redrive runs what a finished job left failed or missing; wait for it to end, or stop it with lambda-batch cancel ${a.job_id}`,
  );
  await w.runArray(a.job_id, [0, 1]);
  assert.equal((await w.cli(['status', a.job_id])).code, 1);

  w.h.front.clear();
  const dry = await w.cli(['redrive', a.job_id, '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout);
  assert.deepEqual(plan.indexes, { failed: [1, 2], missing: [4, 5], list: `${a.url}redrive-1.json` });
  assert.equal(plan.request.item_indexes, `${a.url}redrive-1.json`);
  assert.equal(w.h.front.calls('lambda', 'Invoke').length, 0, '--dry-run submits nothing');
  assert.equal(w.h.front.calls('s3', 'PutObject').length, 0, '--dry-run writes nothing');

  await writeFile(fixed, '');
  w.h.front.clear();
  const r = await w.cli(['redrive', a.job_id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`^redrive of ${a.job_id}: 4 items \\(2 failed, 2 missing\\): 1, 2, 4, 5$`, 'm'),
  );
  assert.match(r.stdout, new RegExp(`^index list ${a.url}redrive-1\\.json$`, 'm'));
  const newId = /^submitted job (\S+) \(ops-task, array of 2 children, definition \S+\)$/m.exec(
    r.stdout,
  )?.[1];
  assert.ok(newId, r.stdout);
  assert.deepEqual(await read(`${a.url}redrive-1.json`), [1, 2, 4, 5]);

  assertOneSubmit(a.url, a.job_id);

  const before = w.h.front.requests.length;
  const children = await w.runArray(newId);
  assert.deepEqual(
    children.map((c) => c.exitCode),
    [0, 0],
  );
  const itemsRead = w.h.front.requests
    .slice(before)
    .filter((q) => q.operation === 'GetObject')
    .map((q) => /\/in\/(\d+)\.json$/.exec(q.path)?.[1])
    .filter(Boolean)
    .map(Number)
    .sort();
  assert.deepEqual(itemsRead, [1, 2, 4, 5], 'the runner served only the redriven items');
  for (const i of [1, 2, 4, 5]) {
    const record = (await read(`${a.url_out}${i}.run.json`)) as { status: string; redrive_of: string };
    assert.deepEqual([record.status, record.redrive_of], ['succeeded', a.job_id]);
  }
  const after = await w.cli(['status', newId, '--json']);
  assert.equal(after.code, 0, after.stdout);
  const j = JSON.parse(after.stdout);
  assert.deepEqual([j.items.expected, j.items.succeeded, j.redrive_of], [4, 4, a.job_id]);
  // The set is whole now; the job that left it short still failed, and says so.
  const original = await w.cli(['status', a.job_id, '--json']);
  assert.equal(original.code, 1);
  assert.deepEqual(JSON.parse(original.stdout).items.succeeded, 6);
  assert.match(
    (await w.cli(['status', a.job_id])).stdout,
    /^note {6}every item has its result now \(a redrive's or a retry's\); the job itself failed$/m,
  );
  const again = await w.cli(['redrive', a.job_id]);
  assert.equal(again.code, 0);
  assert.equal(
    again.stdout.trim(),
    `nothing to redrive: every item job ${a.job_id} should have produced succeeded`,
  );
});

test('a single job redriven: the same payload again, to the same output, naming the job it redrives', async () => {
  const fixed = join(w.dir, 'fixed-single');
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 9, fail: 'KeyError', fixed } });
  assert.equal((await w.run(a.job_id)).exitCode, 1);
  await writeFile(fixed, '');
  const r = await w.cli(['redrive', a.job_id, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.request.payload.n, 9, 'the inline payload, decoded');
  assert.equal(report.request.url_out, a.url_out);
  assert.equal(report.answer.url_out, a.url_out);
  assert.equal((await w.run(report.answer.job_id)).exitCode, 0);
  const record = (await read(a.record_url)) as { status: string; redrive_of: string };
  assert.deepEqual([record.status, record.redrive_of], ['succeeded', a.job_id]);
  assert.equal((await w.cli(['status', report.answer.job_id])).code, 0);
  const nothing = await w.cli(['redrive', report.answer.job_id]);
  assert.match(nothing.stdout, /^nothing to redrive/);
});

test("a child's id, no dispatcher, or a dispatcher that refuses: clear errors, no job", async () => {
  const a = await w.dispatch({ lambda_function: TASK, payloads: [{ n: 0 }, { n: 1 }], items_per_job: 1 });
  await w.runArray(a.job_id);
  const child = await w.cli(['redrive', `${a.job_id}:1`]);
  assert.equal(child.code, 2);
  assert.match(child.last, /is a child of .*: redrive the array job, which runs its failed items$/);
  const none = await w.cli(['redrive', a.job_id], { BATCH_DISPATCHER_FUNCTION: '' });
  assert.equal(none.code, 2);
  assert.match(
    none.last,
    /redrive goes through the deployed dispatcher: give --dispatcher <name> or set BATCH_DISPATCHER_FUNCTION$/,
  );
  // A job whose item is missing, and a dispatcher that answers with its refusal.
  const b = await w.dispatch({ lambda_function: TASK, payloads: [{ n: 0 }, { n: 1 }], items_per_job: 1 });
  const refusing = w.h.front.serveInvoke('refusing', async () => {
    const err = new Error('queue: is not a job queue name or ARN') as Error & { name: string };
    err.name = 'InvalidRequestError';
    throw err;
  });
  try {
    const refused = await w.cli(['redrive', b.job_id, '--dispatcher', 'refusing']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(
      refused.last,
      'lambda-batch: the dispatcher refused: InvalidRequestError: queue: is not a job queue name or ARN',
    );
  } finally {
    refusing.remove();
  }
  assert.ok(
    await getObject(w.h, BUCKET, `${parseS3Url(`${b.url}x`).key.slice(0, -1)}redrive-1.json`),
    'the list stays',
  );
});
