// Self-tests of the harness: serveInvoke, Batch SubmitJob recording, and child processes reaching the front by env.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { createBatchEnvironment, registerJobDefinition } from './harness/batch-fixtures.js';
import { createBucket } from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';

const run = promisify(execFile);
let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const decode = (p: Uint8Array | undefined) => JSON.parse(Buffer.from(p ?? []).toString('utf8'));

test('serveInvoke answers Invoke by name or ARN with the handler result and its context', async () => {
  const seen: unknown[] = [];
  const served = h.front.serveInvoke('dispatcher', async (event, ctx) => {
    seen.push([event, ctx.functionName, ctx.qualifier]);
    return { echoed: event };
  });
  const arn = 'arn:aws:lambda:us-east-1:123456789012:function:dispatcher:live';
  const out = await h.frontClients.lambda.send(
    new InvokeCommand({ FunctionName: arn, Payload: Buffer.from(JSON.stringify({ a: 1 })) }),
  );
  assert.equal(out.StatusCode, 200);
  assert.equal(out.FunctionError, undefined);
  assert.deepEqual(decode(out.Payload), { echoed: { a: 1 } });
  const byName = await h.frontClients.lambda.send(
    new InvokeCommand({ FunctionName: 'dispatcher', Payload: '{}' }),
  );
  assert.deepEqual(decode(byName.Payload), { echoed: {} });
  assert.deepEqual(seen, [
    [{ a: 1 }, 'dispatcher', 'live'],
    [{}, 'dispatcher', undefined],
  ]);
  const rec = h.front.calls('lambda', 'Invoke').at(-1);
  assert.deepEqual(rec?.body, {});
  served.remove();
});

test('serveInvoke turns a thrown error into X-Amz-Function-Error Unhandled with errorType and errorMessage', async () => {
  class InvalidRequestError extends Error {
    override name = 'InvalidRequestError';
  }
  h.front.serveInvoke('thrower', async () => {
    throw new InvalidRequestError('payload: required');
  });
  const out = await h.frontClients.lambda.send(new InvokeCommand({ FunctionName: 'thrower', Payload: '{}' }));
  assert.equal(out.StatusCode, 200);
  assert.equal(out.FunctionError, 'Unhandled');
  const body = decode(out.Payload);
  assert.equal(body.errorType, 'InvalidRequestError');
  assert.equal(body.errorMessage, 'payload: required');
  assert.ok(Array.isArray(body.trace));
});

test('a Batch SubmitJob through the front is recorded with its parsed body', async () => {
  const env = await createBatchEnvironment(h, 'rec');
  const def = await registerJobDefinition(h, { name: 'rec-def', parameters: { url_out: '-' } });
  h.front.clear();
  const out = await h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'rec-job',
      jobQueue: env.jobQueueName,
      jobDefinition: def.jobDefinitionArn,
      parameters: { lambda_function: 'fn', url: 's3://b/k.json', url_out: 's3://b/k_out.json' },
      containerOverrides: { resourceRequirements: [{ type: 'MEMORY', value: '4096' }] },
      retryStrategy: { attempts: 3 },
    }),
  );
  assert.ok(out.jobId);
  const rec = h.front.find((r) => r.service === 'batch' && r.operation === 'SubmitJob');
  assert.equal(rec?.status, 200);
  assert.deepEqual(rec?.body, {
    jobName: 'rec-job',
    jobQueue: env.jobQueueName,
    jobDefinition: def.jobDefinitionArn,
    parameters: { lambda_function: 'fn', url: 's3://b/k.json', url_out: 's3://b/k_out.json' },
    containerOverrides: { resourceRequirements: [{ type: 'MEMORY', value: '4096' }] },
    retryStrategy: { attempts: 3 },
  });
});

test('the SDK v3 in a child process reaches the front through AWS_ENDPOINT_URL alone', async () => {
  await createBucket(h, 'env-js');
  h.front.clear();
  const script = `
    import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
    import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
    import { BatchClient, DescribeJobQueuesCommand } from '@aws-sdk/client-batch';
    await new S3Client({}).send(new PutObjectCommand({ Bucket: 'env-js', Key: 'k', Body: 'x' }));
    await new LambdaClient({}).send(new ListFunctionsCommand({}));
    await new BatchClient({}).send(new DescribeJobQueuesCommand({}));`;
  await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...h.env } });
  assert.deepEqual(
    h.front.requests.map((r) => `${r.service} ${r.operation} ${r.path} ${r.status}`),
    [
      's3 PutObject /env-js/k 200',
      'lambda ListFunctions /2015-03-31/functions 200',
      'batch DescribeJobQueues /v1/describejobqueues 200',
    ],
  );
});

test('boto3 in a child process reaches the front through AWS_ENDPOINT_URL alone', async () => {
  await createBucket(h, 'env-py');
  h.front.clear();
  const script = [
    'import boto3',
    "boto3.client('s3').put_object(Bucket='env-py', Key='k', Body=b'x')",
    "boto3.client('lambda').list_functions()",
  ].join('\n');
  await run('python3', ['-c', script], { env: { ...process.env, ...h.env } });
  assert.deepEqual(
    h.front.requests.map((r) => `${r.service} ${r.operation} ${r.path} ${r.status}`),
    ['s3 PutObject /env-py/k 200', 'lambda ListFunctions /2015-03-31/functions 200'],
  );
});

test('AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL in both the SDK v3 and boto3', async () => {
  await createBucket(h, 'env-svc');
  h.front.clear();
  // Port 9 (discard) is closed here: a client that used AWS_ENDPOINT_URL would fail to connect.
  const env = {
    ...process.env,
    ...h.env,
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_S3: h.endpoint,
  };
  const js = `
    import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
    await new S3Client({ maxAttempts: 1 }).send(new PutObjectCommand({ Bucket: 'env-svc', Key: 'js', Body: 'x' }));`;
  await run(process.execPath, ['--input-type=module', '-e', js], { env });
  const py = "import boto3\nboto3.client('s3').put_object(Bucket='env-svc', Key='py', Body=b'x')";
  await run('python3', ['-c', py], { env });
  assert.deepEqual(
    h.front.calls('s3', 'PutObject').map((r) => `${r.path} ${r.status}`),
    ['/env-svc/js 200', '/env-svc/py 200'],
  );
});
