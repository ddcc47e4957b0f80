// The Node helper's logic that needs no AWS: the request it builds, the guard, and the errors it raises itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRequest } from '../../functions/helper/helper.js';
import { createBatchHelper, MAX_INVOKE_BYTES } from '../../functions/helper/index.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:feeder';

test('the request carries the payload and only the job options that were set, never the dispatcher', () => {
  const request = buildRequest({ a: 1 }, ARN, {
    queue: 'q',
    image: 'geolambda',
    name: 'n',
    vcpus: 2,
    memory: 4096,
    gpus: undefined,
    timeout: 60,
    attempts: 2,
    dispatcher: 'other',
  });
  assert.deepEqual(request, {
    lambda_function: ARN,
    payload: { a: 1 },
    queue: 'q',
    image: 'geolambda',
    name: 'n',
    vcpus: 2,
    memory: 4096,
    timeout: 60,
    attempts: 2,
  });
});

test('isBatchJob follows AWS_BATCH_JOB_ID, read at each call', () => {
  const env: Record<string, string> = {};
  const helper = createBatchHelper(env);
  assert.equal(helper.isBatchJob(), false);
  env.AWS_BATCH_JOB_ID = 'b0e0f1c2';
  assert.equal(helper.isBatchJob(), true);
  env.AWS_BATCH_JOB_ID = '';
  assert.equal(helper.isBatchJob(), false);
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
