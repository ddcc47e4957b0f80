// Item sets, the job definition per runtime and plan mode, against moto through the recording front.
// moto 5.2.1 takes arrayProperties and keeps child jobs (batch_simple marks them done); its DescribeJobs drops
// container overrides, so those are read from the SubmitJob request as the front recorded it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SubmitJobCommand, type SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { RUN_LAMBDA_ITEM_COUNT, RUN_LAMBDA_ITEMS_PER_JOB } from '../../lib/job-plan.js';
import type { BatchJobAnswer, BatchJobPlanAnswer } from '../../lib/request.js';
import { BUCKET, CONTEXT, fnArn, startWorld, type World } from './dispatcher-fixtures.js';
import { registerJobDefinition } from './harness/batch-fixtures.js';
import { createFunction, getJson, putObject } from './harness/fixtures.js';

let w: World;
before(async () => {
  w = await startWorld();
  await createFunction(h(), { name: 'py313-task', runtime: 'python3.13' });
  await createFunction(h(), { name: 'node-task', runtime: 'nodejs22.x', handler: 'index.handler' });
  await registerJobDefinition(h(), { name: 'run-lambda-python3-13' });
});
after(() => w?.h.stop());
const h = () => w.h;

function submits(): SubmitJobInputRecorded[] {
  return w.h.front.calls('batch', 'SubmitJob').map((r) => r.body as SubmitJobInputRecorded);
}
type SubmitJobInputRecorded = SubmitJobCommandInput & { jobDefinition: string };

const keyOf = (url: string) => url.slice(`s3://${BUCKET}/`.length);

test('1,000 payloads at items_per_job 10: exactly one SubmitJob, an array of 100, 1,000 items at the documented keys', async () => {
  w.h.front.clear();
  const payloads = Array.from({ length: 1000 }, (_, i) => ({ id: `item-${i}`, n: i }));
  const a = (await w.invoke(w.handlerWith(), {
    lambda_function: 'plain-task',
    payloads,
    items_per_job: 10,
    memory: 2048,
  })) as BatchJobAnswer;
  const m = /^s3:\/\/dispatch-payloads\/batch\/plain-task\/([0-9a-f-]{36})\/in\/$/.exec(a.url);
  assert.ok(m, a.url);
  const base = `batch/plain-task/${m[1]}/`;
  assert.deepEqual(
    { ...a, job_id: 'x' },
    {
      job_id: 'x',
      job_name: 'plain-task',
      job_queue: 'disp-queue',
      job_definition: 'run-lambda',
      image: 'lambda',
      url: `s3://${BUCKET}/${base}in/`,
      url_out: `s3://${BUCKET}/${base}out/`,
      record_url: `s3://${BUCKET}/${base}out/`,
      item_count: 1000,
      items_per_job: 10,
      array_size: 100,
    },
  );
  const [only, ...more] = submits();
  assert.equal(more.length, 0, 'one SubmitJob for the whole set');
  assert.deepEqual(only!.arrayProperties, { size: 100 });
  assert.deepEqual(only!.containerOverrides, {
    resourceRequirements: [{ type: 'MEMORY', value: '2048' }],
    environment: [
      { name: RUN_LAMBDA_ITEM_COUNT, value: '1000' },
      { name: RUN_LAMBDA_ITEMS_PER_JOB, value: '10' },
    ],
  });
  assert.deepEqual(only!.parameters, {
    lambda_function: fnArn('plain-task'),
    url: a.url,
    url_out: a.url_out,
  });
  const keys = await w.keysUnder(base);
  assert.deepEqual(keys, Array.from({ length: 1000 }, (_, i) => `${base}in/${i}.json`).sort());
  for (const i of [0, 1, 499, 999])
    assert.deepEqual(await getJson(h(), BUCKET, `${base}in/${i}.json`), payloads[i]);
  assert.equal(w.h.front.calls('s3', 'PutObject').length, 1000);
  const job = await w.describe(a.job_id);
  assert.equal(job.arrayProperties?.size, 100);
});

test('a set that fits one child is a plain job (Batch arrays have at least 2), still with the set environment', async () => {
  w.h.front.clear();
  const a = (await w.invoke(w.handlerWith(), {
    lambda_function: 'plain-task',
    payloads: [{ a: 1 }, { a: 2 }, { a: 3 }],
    items_per_job: 5,
  })) as BatchJobAnswer;
  assert.equal(a.array_size, 1);
  const [s] = submits();
  assert.equal(s!.arrayProperties, undefined);
  assert.deepEqual(s!.containerOverrides?.environment, [
    { name: RUN_LAMBDA_ITEM_COUNT, value: '3' },
    { name: RUN_LAMBDA_ITEMS_PER_JOB, value: '5' },
  ]);
  // items_per_job defaults to 1: one child per item.
  const b = (await w.invoke(w.handlerWith(), {
    lambda_function: 'plain-task',
    payloads: [1, 2],
  })) as BatchJobAnswer;
  assert.deepEqual([b.items_per_job, b.array_size], [1, 2]);
});

test('an item set already stored (url ending in /in/ with item_count) is submitted as it is, nothing written', async () => {
  for (let i = 0; i < 4; i++) await putObject(h(), BUCKET, `pre/set/in/${i}.json`, { i });
  w.h.front.clear();
  const url = `s3://${BUCKET}/pre/set/in/`;
  const a = (await w.invoke(w.handlerWith(), {
    lambda_function: 'plain-task',
    url,
    item_count: 4,
    items_per_job: 2,
  })) as BatchJobAnswer;
  assert.equal(a.url_out, `s3://${BUCKET}/pre/set/out/`);
  assert.deepEqual(submits()[0]!.arrayProperties, { size: 2 });
  assert.equal(w.h.front.calls('s3').length, 0);
  await assert.rejects(
    w.handlerWith()({ lambda_function: 'plain-task', url: `s3://${BUCKET}/x/`, item_count: 4 }, CONTEXT),
    {
      name: 'InvalidRequestError',
      message: /^url_out: is required for an item set url that does not end in \/in\//,
    },
  );
});

test('SubmitJob refusing a set removes every item it wrote', async () => {
  w.h.front.clear();
  await assert.rejects(
    w.handlerWith()(
      { lambda_function: 'plain-task', payloads: Array.from({ length: 1500 }, (_, i) => i), queue: 'nope' },
      CONTEXT,
    ),
    { name: 'SubmitJobError', message: /queue nope/ },
  );
  const first = w.h.front.calls('s3', 'PutObject')[0]!.path;
  const base = /^\/dispatch-payloads\/(batch\/plain-task\/[0-9a-f-]{36}\/)/.exec(first)![1]!;
  assert.deepEqual(await w.keysUnder(base), []);
  assert.equal(w.h.front.calls('s3', 'DeleteObjects').length, 2, '1,500 keys take two DeleteObjects');
});

test('payloads without PAYLOAD_BUCKET is a ConfigError naming it, before any call', async () => {
  w.h.front.clear();
  await assert.rejects(
    w.handlerWith({ PAYLOAD_BUCKET: '' })({ lambda_function: 'plain-task', payloads: [{}] }, CONTEXT),
    { name: 'ConfigError', message: /^PAYLOAD_BUCKET \(or CIRRUS_PAYLOAD_BUCKET\) is required for payloads/ },
  );
  assert.equal(w.h.front.requests.length, 0);
});

test("the function's runtime picks its image's job definition from JOB_DEFINITIONS", async () => {
  const handler = w.handlerWith({ JOB_DEFINITIONS: '{"lambda:python3.13": "run-lambda-python3-13"}' });
  w.h.front.clear();
  const a = (await w.invoke(handler, {
    lambda_function: 'py313-task',
    url: 's3://bkt/k.json',
  })) as BatchJobAnswer;
  assert.equal(a.job_definition, 'run-lambda-python3-13');
  assert.match((await w.describe(a.job_id)).jobDefinition ?? '', /job-definition\/run-lambda-python3-13:1$/);
  // python3.12 functions keep JOB_DEFINITION_LAMBDA.
  const b = (await w.invoke(handler, {
    lambda_function: 'plain-task',
    url: 's3://bkt/k.json',
  })) as BatchJobAnswer;
  assert.equal(b.job_definition, 'run-lambda');
});

test('a runtime with no job definition is UnsupportedRuntimeError naming it and the configured ones; nothing written', async () => {
  w.h.front.clear();
  const keysBefore = await w.keysUnder('');
  for (const req of [
    { lambda_function: 'node-task', payload: { blob: 'x'.repeat(10_000) } },
    { lambda_function: 'py313-task', payloads: [{}, {}] },
    { lambda_function: 'py313-task', payload: {}, idempotency_key: 'unsupported-1' },
  ]) {
    await assert.rejects(w.handlerWith()(req, CONTEXT), {
      name: 'UnsupportedRuntimeError',
      message:
        /no job definition for image lambda:(nodejs22\.x|python3\.13) .*configured: geolambda:python3\.12, lambda:python3\.12$/,
    });
  }
  assert.equal(w.h.front.calls('s3').length, 0);
  assert.equal(w.h.front.calls('batch').length, 0);
  assert.deepEqual(await w.keysUnder(''), keysBefore);
});

test('a bad JOB_DEFINITIONS makes every invoke a ConfigError naming it', async () => {
  const { handlerFromEnv } = await import('../../functions/dispatcher/index.js');
  const handler = handlerFromEnv({
    ...w.h.env,
    JOB_DEFINITION_LAMBDA: 'd',
    JOB_DEFINITIONS: '{"lambda": "x"}',
  });
  await assert.rejects(handler({ lambda_function: 'plain-task', url: 's3://bkt/k.json' }, CONTEXT), {
    name: 'ConfigError',
    message: /^JOB_DEFINITIONS key "lambda"/,
  });
});

test('plan mode stores the payloads, submits nothing and answers with the exact SubmitJob input', async () => {
  w.h.front.clear();
  const payloads = Array.from({ length: 30 }, (_, i) => ({ i }));
  const a = (await w.invoke(w.handlerWith(), {
    lambda_function: 'geo-task',
    payloads,
    items_per_job: 4,
    attempts: 2,
    plan: true,
  })) as unknown as BatchJobPlanAnswer;
  assert.equal(w.h.front.calls('batch').length, 0, 'nothing submitted');
  assert.equal('job_id' in a, false);
  assert.deepEqual(a.submit_job, {
    jobName: 'geo-task',
    jobQueue: 'disp-queue',
    jobDefinition: 'run-geolambda',
    parameters: { lambda_function: fnArn('geo-task'), url: a.url, url_out: a.url_out },
    arrayProperties: { size: 8 },
    containerOverrides: {
      environment: [
        { name: RUN_LAMBDA_ITEM_COUNT, value: '30' },
        { name: RUN_LAMBDA_ITEMS_PER_JOB, value: '4' },
      ],
    },
    retryStrategy: {
      attempts: 2,
      evaluateOnExit: [
        { onStatusReason: 'Host EC2*', action: 'RETRY' },
        { onStatusReason: 'Your Spot Task was interrupted*', action: 'RETRY' },
        { onExitCode: '4', action: 'RETRY' },
        { onExitCode: '*', action: 'EXIT' },
      ],
    },
  });
  assert.equal((await w.keysUnder(keyOf(a.url))).length, 30);
  // What Step Functions' batch:submitJob.sync would send: Batch takes it as it is.
  const out = await w.h.clients.batch.send(
    new SubmitJobCommand(a.submit_job as unknown as SubmitJobCommandInput),
  );
  assert.equal((await w.describe(out.jobId!)).arrayProperties?.size, 8);
  // A bad request in plan mode is refused the same way, with nothing written.
  await assert.rejects(w.handlerWith()({ lambda_function: 'geo-task', payloads: [], plan: true }, CONTEXT), {
    name: 'InvalidRequestError',
    message: /^payloads: /,
  });
});
