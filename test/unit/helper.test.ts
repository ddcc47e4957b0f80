// The Node helper's logic that needs no AWS: the request it builds, the guard, and the errors it raises itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatchHelper, deriveIdempotencyKey, MAX_INVOKE_BYTES } from '../../functions/helper/index.js';
import { buildRequest } from '../../functions/helper/request.js';
import { RUN_LAMBDA_JOB } from '../../lib/job-plan.js';
import { IDEMPOTENCY_KEY, type JobOptions } from '../../lib/request.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:feeder';

test('the request carries the payload and only the job options that were set, never the dispatcher', () => {
  const given: JobOptions = {
    queue: 'q',
    image: 'geolambda',
    name: 'n',
    vcpus: 2,
    memory: 4096,
    timeout: 60,
    attempts: 2,
  };
  const request = buildRequest({ payload: { a: 1 } }, ARN, {
    ...given,
    gpus: undefined,
    dispatcher: 'other',
  });
  assert.deepEqual(request, { lambda_function: ARN, payload: { a: 1 }, ...given });
});

test('isBatchJob follows AWS_BATCH_JOB_ID and RUN_LAMBDA_JOB=1, read at each call', () => {
  const env: Record<string, string> = {};
  const helper = createBatchHelper(env);
  assert.equal(helper.isBatchJob(), false);
  env.AWS_BATCH_JOB_ID = 'b0e0f1c2';
  assert.equal(helper.isBatchJob(), true);
  env.AWS_BATCH_JOB_ID = '';
  assert.equal(helper.isBatchJob(), false);
  // The runner sets it for the function wherever it runs it (Kubernetes, a laptop), not only in Batch.
  env[RUN_LAMBDA_JOB] = '1';
  assert.equal(helper.isBatchJob(), true);
  env[RUN_LAMBDA_JOB] = '0';
  assert.equal(helper.isBatchJob(), false);
});

test('each call carries an idempotency key: the given one, else the request id and a digest of the request', () => {
  const context = { awsRequestId: '8f5e2c1a-0000-4000-8000-000000000001' };
  const a = buildRequest({ payload: { a: 1 } }, ARN, { context }).idempotency_key;
  assert.match(a ?? '', /^8f5e2c1a-0000-4000-8000-000000000001-[0-9a-f]{16}$/);
  // A retried invocation (same request id, same request) gets the same key; another submission does not.
  assert.equal(buildRequest({ payload: { a: 1 } }, ARN, { context }).idempotency_key, a);
  assert.notEqual(buildRequest({ payload: { a: 2 } }, ARN, { context }).idempotency_key, a);
  assert.notEqual(buildRequest({ payload: { a: 1 } }, ARN, { context, memory: 64 }).idempotency_key, a);
  assert.equal(
    buildRequest({ payload: {} }, ARN, { context, idempotencyKey: 'mine' }).idempotency_key,
    'mine',
  );
  assert.equal(buildRequest({ payload: {} }, ARN).idempotency_key, undefined);
  assert.equal(
    deriveIdempotencyKey(context.awsRequestId, {}),
    deriveIdempotencyKey(context.awsRequestId, {}),
  );
  assert.ok(IDEMPOTENCY_KEY.test(deriveIdempotencyKey('x'.repeat(200), {})));
});

test('submitBatchJobs builds one payloads request with items_per_job', () => {
  const request = buildRequest({ payloads: [{ i: 0 }, { i: 1 }] }, ARN, { items_per_job: 5 });
  assert.deepEqual(request, { lambda_function: ARN, payloads: [{ i: 0 }, { i: 1 }], items_per_job: 5 });
});

test('runAsBatchJob inside a Batch job returns undefined without needing a dispatcher', async () => {
  const helper = createBatchHelper({ AWS_BATCH_JOB_ID: 'job' });
  assert.equal(await helper.runAsBatchJob({}, { invokedFunctionArn: ARN }), undefined);
});

test('without a dispatcher configured, submitting names BATCH_DISPATCHER_FUNCTION', async () => {
  await assert.rejects(createBatchHelper({}).runAsBatchJob({}, { invokedFunctionArn: ARN }), {
    name: 'ConfigError',
    message: /BATCH_DISPATCHER_FUNCTION is required/,
  });
});

test('a request over the invoke limit without a payload bucket asks for PAYLOAD_BUCKET before any call', async () => {
  const helper = createBatchHelper({ BATCH_DISPATCHER_FUNCTION: 'dispatcher', AWS_REGION: 'us-east-1' });
  await assert.rejects(helper.submitBatchJob({ blob: 'x'.repeat(MAX_INVOKE_BYTES) }, ARN), {
    name: 'PayloadTooLargeError',
    message: /bytes, over the 6000000-byte limit .* set PAYLOAD_BUCKET/,
  });
});

test('the invoke limit leaves room under Lambda’s 6 MiB synchronous request cap', () => {
  assert.ok(MAX_INVOKE_BYTES < 6 * 1024 * 1024 && MAX_INVOKE_BYTES > 5 * 1024 * 1024);
});
