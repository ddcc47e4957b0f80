// The layer helper (Node and Python) against a real Lambda Invoke endpoint running the built dispatcher, on moto.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createBatchHelper } from '../../functions/helper/index.js';
import { readJobParameters } from '../../lib/job-wire.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { runProcess } from '../support/process.js';
import type { AwsClients } from './harness/clients.js';
import { createFunction, getJson } from './harness/fixtures.js';
import type { Front } from './harness/front.js';
import { type Harness, startHarness } from './harness/index.js';
import { DISPATCHER_BUNDLE, serveBuiltDispatcher } from './helper-dispatcher.js';

const LAYER_PYTHON = new URL('../../dist/layer/python', import.meta.url).pathname;
const CASES_PY = new URL('../python/submit_cases.py', import.meta.url).pathname;
const FEEDER = 'arn:aws:lambda:us-east-1:123456789012:function:feeder';

let h: Harness;
let front: Front;
let clients: AwsClients;
let helperEnv: Record<string, string>;

before(async () => {
  assert.ok(existsSync(DISPATCHER_BUNDLE) && existsSync(LAYER_PYTHON), 'run `npm run build` first');
  h = await startHarness();
  front = h.front;
  clients = h.clients;
  await serveBuiltDispatcher(h);
  await createFunction(h, { name: 'feeder' });
  helperEnv = {
    ...h.env,
    BATCH_DISPATCHER_FUNCTION: 'dispatcher',
    PAYLOAD_BUCKET: 'payloads',
  };
});

after(async () => {
  await h?.stop();
});

interface SubmitJobBody {
  jobName: string;
  jobQueue: string;
  jobDefinition: string;
  parameters: Record<string, string>;
  containerOverrides?: { resourceRequirements?: { type: string; value: string }[] };
  timeout?: { attemptDurationSeconds: number };
  retryStrategy?: { attempts: number };
}

/** The SubmitJob requests Batch (moto) received since the last `front.clear()`. */
function submitted(): SubmitJobBody[] {
  return front.calls('batch', 'SubmitJob').map((r) => r.body as SubmitJobBody);
}

function resourcesOf(job: SubmitJobBody): Record<string, string> {
  return Object.fromEntries(
    (job.containerOverrides?.resourceRequirements ?? []).map((r) => [r.type, r.value]),
  );
}

// Async on purpose: the Invoke endpoint python calls is served by this very process.
async function python(script: string, input: string, env: Record<string, string>) {
  const { code, stdout, stderr } = await runProcess('python3', [script], { env, input });
  return { status: code, stdout, stderr };
}

async function describe(jobId: string) {
  const out = await clients.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
  assert.equal(out.jobs?.length, 1, `job ${jobId} is in Batch`);
  return out.jobs![0]!;
}

test('submitBatchJob passes every option through the dispatcher to the job in Batch', async () => {
  front.clear();
  const helper = createBatchHelper(helperEnv);
  const answer = await helper.submitBatchJob({ items: [1, 2, 3] }, FEEDER, {
    queue: 'harness-queue',
    image: 'geolambda',
    name: 'big-feed',
    vcpus: 2,
    memory: 4096,
    gpus: 1,
    timeout: 600,
    attempts: 3,
  });
  assert.equal(answer.image, 'geolambda');
  assert.equal(answer.job_name, 'big-feed');
  const [job, ...more] = submitted();
  assert.equal(more.length, 0);
  assert.equal(job!.jobName, 'big-feed');
  assert.equal(job!.jobQueue, 'harness-queue');
  assert.match(job!.jobDefinition, /geolambda-as-batch/);
  assert.deepEqual(resourcesOf(job!), { VCPU: '2', MEMORY: '4096', GPU: '1' });
  assert.equal(job!.timeout?.attemptDurationSeconds, 600);
  assert.equal(job!.retryStrategy?.attempts, 3);
  assert.equal(readJobParameters(job!.parameters).function, FEEDER);
  assert.equal(readJobParameters(job!.parameters).url, answer.url);
  const landed = await describe(answer.job_id);
  assert.equal(landed.jobName, 'big-feed');
  assert.equal(readJobParameters(landed.parameters ?? {}).output, answer.url_out);
});

test('submitBatchJob without options lets the dispatcher choose queue, image and an inline payload', async () => {
  front.clear();
  const answer = await createBatchHelper(helperEnv).submitBatchJob({ small: true }, FEEDER);
  assert.equal(answer.image, 'lambda');
  assert.match(answer.url, /^data:application\/json;base64,/);
  const [job] = submitted();
  assert.match(job!.jobDefinition, /(^|[:/])lambda-as-batch/);
  assert.equal(job!.containerOverrides, undefined);
  assert.equal((await describe(answer.job_id)).jobName, 'feeder');
});

test('a payload over the invoke limit goes to S3 under the dispatcher key layout and travels as url', async () => {
  front.clear();
  const payload = { blob: 'x'.repeat(6_100_000) };
  const answer = await createBatchHelper(helperEnv).submitBatchJob(payload, FEEDER);
  assert.match(answer.url, /^s3:\/\/payloads\/batch\/feeder\/[0-9a-f-]{36}\.json$/);
  const invoke = front.calls('lambda', 'Invoke')[0]!;
  assert.deepEqual(Object.keys(invoke.body as object).sort(), ['lambda_function', 'url']);
  const loc = parseS3Url(answer.url);
  assert.deepEqual(await getJson(h, loc.bucket, loc.key), payload);
  assert.equal(readJobParameters(submitted()[0]!.parameters).url, answer.url);
});

test('a payload over the invoke limit without PAYLOAD_BUCKET fails with PayloadTooLargeError and invokes nothing', async () => {
  front.clear();
  const helper = createBatchHelper({ ...helperEnv, PAYLOAD_BUCKET: '' });
  await assert.rejects(helper.submitBatchJob({ blob: 'x'.repeat(6_100_000) }, FEEDER), {
    name: 'PayloadTooLargeError',
    message: /over the 6000000-byte limit.*set PAYLOAD_BUCKET/,
  });
  assert.equal(front.calls('lambda', 'Invoke').length, 0);
});

test('a dispatcher error surfaces with its type and message and nothing is submitted', async () => {
  front.clear();
  const helper = createBatchHelper(helperEnv);
  await assert.rejects(helper.submitBatchJob({}, FEEDER, { memory: 1 }), {
    name: 'InvalidRequestError',
    message: /^memory: must be between/,
  });
  await assert.rejects(helper.submitBatchJob({}, 'arn:aws:lambda:us-east-1:123456789012:function:nope'), {
    name: 'FunctionNotFoundError',
    message: /nope/,
  });
  assert.equal(submitted().length, 0);
});

test('runAsBatchJob submits the invoked function outside Batch and returns undefined inside it', async () => {
  front.clear();
  const context = { invokedFunctionArn: FEEDER };
  const inside = createBatchHelper({ ...helperEnv, AWS_BATCH_JOB_ID: 'job-1' });
  assert.equal(await inside.runAsBatchJob({ n: 1 }, context), undefined);
  assert.equal(front.calls('lambda', 'Invoke').length, 0);
  const job = await createBatchHelper(helperEnv).runAsBatchJob({ n: 1 }, context, { memory: 2048 });
  assert.ok(job?.job_id);
  assert.equal(readJobParameters(submitted()[0]!.parameters).function, FEEDER);
  assert.deepEqual(resourcesOf(submitted()[0]!), { MEMORY: '2048' });
});

test('submitBatchJobs sends 200 events as one request: one SubmitJob, an array job of 20', async () => {
  front.clear();
  const payloads = Array.from({ length: 200 }, (_, i) => ({ id: i }));
  const answer = await createBatchHelper(helperEnv).submitBatchJobs(payloads, FEEDER, { items_per_job: 10 });
  assert.deepEqual([answer.item_count, answer.items_per_job, answer.array_size], [200, 10, 20]);
  assert.equal(front.calls('lambda', 'Invoke').length, 1);
  const [job, ...more] = submitted() as (SubmitJobBody & { arrayProperties?: { size: number } })[];
  assert.equal(more.length, 0);
  assert.deepEqual(job!.arrayProperties, { size: 20 });
  assert.match(answer.url, /^s3:\/\/payloads\/batch\/feeder\/[0-9a-f-]{36}\/in\/$/);
});

test('events over the invoke limit: the helper writes the items and sends url + item_count; one SubmitJob', async () => {
  front.clear();
  // 700 events of 9 KB: over the 6 MB invoke limit with few objects (moto takes ~10 ms a PutObject).
  const payloads = Array.from({ length: 700 }, (_, i) => ({ id: i, pad: 'p'.repeat(9000) }));
  const context = { awsRequestId: 'c0ffee00-0000-4000-8000-00000000beef' };
  const answer = await createBatchHelper(helperEnv).submitBatchJobs(payloads, FEEDER, {
    items_per_job: 100,
    context,
  });
  const invoke = front.calls('lambda', 'Invoke')[0]!.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(invoke).sort(), [
    'idempotency_key',
    'item_count',
    'items_per_job',
    'lambda_function',
    'url',
  ]);
  assert.equal(invoke.item_count, 700);
  const key = invoke.idempotency_key as string;
  assert.equal(answer.url, `s3://payloads/batch/feeder/${key}/in/`);
  assert.equal(answer.url_out, `s3://payloads/batch/feeder/${key}/out/`);
  assert.equal(answer.array_size, 7);
  assert.equal(submitted().length, 1);
  assert.equal(front.calls('s3', 'PutObject').filter((r) => r.path.includes(`/${key}/in/`)).length, 700);
  assert.deepEqual(await getJson(h, 'payloads', `batch/feeder/${key}/in/699.json`), payloads[699]);
});

test('a retried invocation (same request id) gets the same job; a lost Invoke answer is not resent by the SDK', async () => {
  front.clear();
  const helper = createBatchHelper(helperEnv);
  const context = { awsRequestId: 'a11ce000-0000-4000-8000-000000000001' };
  const first = await helper.submitBatchJob({ n: 1 }, FEEDER, { context });
  const retry = await helper.submitBatchJob({ n: 1 }, FEEDER, { context });
  assert.deepEqual(retry, first);
  assert.equal(submitted().length, 1);
  // The dispatcher's answer lost on the way back: the helper reports it and sends nothing more.
  front.clear();
  const drop = front.fault({ match: (r) => r.operation === 'Invoke', times: 1, kind: 'drop' });
  await assert.rejects(helper.submitBatchJob({ n: 2 }, FEEDER, { context }));
  assert.equal(drop.hits, 1);
  assert.equal(front.calls('lambda', 'Invoke').length, 1, 'no SDK retry of the Invoke');
  // The caller's retry carries the same key: answered with the job the lost answer was about.
  const again = await helper.submitBatchJob({ n: 2 }, FEEDER, { context });
  assert.equal(submitted().length, 1);
  assert.ok(again.job_id);
});

test('runAsBatchJob keys the submission by context.awsRequestId; RUN_LAMBDA_JOB=1 keeps it inline', async () => {
  front.clear();
  const context = { invokedFunctionArn: FEEDER, awsRequestId: 'b0b00000-0000-4000-8000-000000000002' };
  const a = await createBatchHelper(helperEnv).runAsBatchJob({ n: 3 }, context);
  const b = await createBatchHelper(helperEnv).runAsBatchJob({ n: 3 }, context);
  assert.deepEqual(a, b);
  assert.equal(submitted().length, 1);
  assert.equal(
    await createBatchHelper({ ...helperEnv, RUN_LAMBDA_JOB: '1' }).runAsBatchJob({}, context),
    undefined,
  );
});

/** Every key of the payloads bucket, sorted. */
async function bucketKeys(): Promise<string[]> {
  const out = await clients.s3.send(new ListObjectsV2Command({ Bucket: 'payloads' }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

test('a hostile idempotencyKey is refused before anything is staged; a hostile request id names objects under batch/feeder/ only', async () => {
  front.clear();
  const helper = createBatchHelper(helperEnv);
  const big = { blob: 'x'.repeat(6_100_000) };
  const items = Array.from({ length: 700 }, (_, i) => ({ i, pad: 'p'.repeat(9000) }));
  const before = await bucketKeys();
  for (const key of ['../../../escaped', 'k.dispatch', 'k_out']) {
    await assert.rejects(helper.submitBatchJob(big, FEEDER, { idempotencyKey: key }), {
      name: 'InvalidRequestError',
      message: /^idempotency_key: /,
    });
    await assert.rejects(helper.submitBatchJobs(items, FEEDER, { idempotencyKey: key }), {
      name: 'InvalidRequestError',
      message: /^idempotency_key: /,
    });
  }
  assert.equal(front.calls('s3', 'PutObject').length, 0, 'nothing staged');
  assert.equal(front.calls('lambda', 'Invoke').length, 0);
  assert.deepEqual(await bucketKeys(), before);
  // The request id only feeds the derived key, which keeps letters, digits, - and _.
  const answer = await helper.submitBatchJob(big, FEEDER, { context: { awsRequestId: '../../../escaped' } });
  const key = parseS3Url(answer.url).key;
  assert.match(key, /^batch\/feeder\/[A-Za-z0-9_-]+\.json$/);
  const added = (await bucketKeys()).filter((k) => !before.includes(k));
  assert.deepEqual(
    added,
    [key.replace(/\.json$/, '.dispatch.json'), key],
    'the payload and the dispatcher record',
  );
});

test('no payload text in what the helper throws: a refused payloads field, a payload JSON cannot carry', async () => {
  front.clear();
  const secret = 'tok-5ecret-do-not-log';
  const helper = createBatchHelper(helperEnv);
  await assert.rejects(helper.submitBatchJobs(secret as unknown as unknown[], FEEDER), (err: Error) => {
    assert.equal(err.name, 'InvalidRequestError');
    assert.equal(err.message, 'payloads: must be an array of events, got a string');
    return true;
  });
  const cyclic: Record<string, unknown> = { [secret]: {} };
  (cyclic[secret] as Record<string, unknown>).back = cyclic;
  await assert.rejects(
    helper.submitBatchJob(cyclic, FEEDER, { context: { awsRequestId: 'r-cyc' } }),
    (err: Error) => {
      assert.equal(err.name, 'InvalidRequestError');
      assert.match(
        err.message,
        /^payload: cannot be sent as JSON \(Converting circular structure to JSON\)$/,
      );
      assert.ok(!`${err.message}${err.stack}`.includes('5ecret'));
      return true;
    },
  );
  assert.equal(submitted().length, 0);
});

test('the Python helper submits through the same dispatcher, maps definitions and raises typed errors', async () => {
  front.clear();
  const cases = [
    {
      payload: { a: 1 },
      arn: FEEDER,
      kwargs: {
        definition: 'stack-geolambda-as-batch',
        queue: 'queue',
        name: 'py-geo',
        vcpus: 2,
        memory: 3072,
      },
    },
    { payload: { a: 2 }, arn: FEEDER, kwargs: { definition: 'stack-lambda-as-batch', name: 'py-plain' } },
    { big: 6_100_000, arn: FEEDER, kwargs: { name: 'py-big' } },
    { payload: { a: 3 }, arn: 'arn:aws:lambda:us-east-1:123456789012:function:nope' },
    { payloads: [{ i: 0 }, { i: 1 }, { i: 2 }], arn: FEEDER, kwargs: { items_per_job: 2, name: 'py-set' } },
    {
      bigSet: 700,
      arn: FEEDER,
      request_id: 'py-req-1',
      kwargs: { items_per_job: 100, name: 'py-big-set' },
    },
    { payload: { a: 4 }, arn: FEEDER, request_id: 'py-req-2', kwargs: { name: 'py-keyed' } },
    { payload: { a: 4 }, arn: FEEDER, request_id: 'py-req-2', kwargs: { name: 'py-keyed' } },
  ];
  const run = await python(CASES_PY, JSON.stringify(cases), {
    PATH: process.env.PATH ?? '',
    PYTHONPATH: LAYER_PYTHON,
    // No __pycache__ inside dist/layer: SAM would ship it in the layer.
    PYTHONDONTWRITEBYTECODE: '1',
    ...helperEnv,
    AWS_ENDPOINT_URL_LAMBDA: front.endpoint,
    // cirrus-lib naming: the bare queue 'queue' becomes 'harness-queue'.
    CIRRUS_STACK: 'harness',
  });
  assert.equal(run.status, 0, run.stderr);
  const [geo, plain, big, missing, set, bigSet, keyed, keyedAgain] = JSON.parse(run.stdout) as {
    answer?: Record<string, string>;
    error?: { type: string; message: string; dispatch_error: boolean };
  }[];
  assert.equal(geo!.answer?.image, 'geolambda', JSON.stringify(geo));
  assert.equal(plain!.answer?.image, 'lambda', JSON.stringify(plain));
  assert.match(big!.answer?.url ?? '', /^s3:\/\/payloads\/batch\/feeder\/[0-9a-f-]{36}\.json$/);
  assert.deepEqual(missing!.error && { type: missing!.error.type, base: missing!.error.dispatch_error }, {
    type: 'FunctionNotFoundError',
    base: true,
  });
  const byName = new Map(submitted().map((j) => [j.jobName, j]));
  assert.deepEqual(resourcesOf(byName.get('py-geo')!), { VCPU: '2', MEMORY: '3072' });
  assert.match(byName.get('py-geo')!.jobDefinition, /geolambda-as-batch/);
  assert.equal(byName.get('py-geo')!.jobQueue, 'harness-queue');
  assert.match(byName.get('py-plain')!.jobDefinition, /(^|[:/])lambda-as-batch/);
  assert.equal(readJobParameters(byName.get('py-big')!.parameters).url, big!.answer?.url);
  assert.equal((await describe(geo!.answer!.job_id!)).jobName, 'py-geo');
  // submit_batch_jobs: one array job; over the invoke limit the helper stores the items itself.
  assert.equal(set!.answer?.array_size as unknown as number, 2, JSON.stringify(set));
  assert.match(bigSet!.answer?.url ?? '', /^s3:\/\/payloads\/batch\/feeder\/py-req-1-[0-9a-f]{16}\/in\/$/);
  assert.equal(bigSet!.answer?.item_count as unknown as number, 700);
  assert.deepEqual(await getJson(h, 'payloads', `${parseS3Url(bigSet!.answer!.url!).key}699.json`), {
    i: 699,
    pad: 'q'.repeat(9000),
  });
  // The same request id twice (a retried invocation): the same job, one SubmitJob.
  assert.deepEqual(keyedAgain!.answer, keyed!.answer);
  assert.equal(byName.has('py-keyed') && submitted().filter((j) => j.jobName === 'py-keyed').length, 1);
  assert.equal(submitted().filter((j) => j.jobName === 'py-big-set').length, 1);
});
