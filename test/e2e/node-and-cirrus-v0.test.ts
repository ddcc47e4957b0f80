// End to end for a Node.js function (dispatcher → template job definition) and a Cirrus v0 job definition (compat
// mode), on a stack deployed into an existing bucket and job queue (PayloadBucketName, JobQueueArn).
// What moto cannot do and the harness does instead: its Lambda runs no code, so the front answers the dispatcher's
// Invoke in this process from the deployed code and configuration (lambda-container.ts) and serves code bytes for
// GetFunction/GetLayerVersion; its Batch runs no container, so batch-exec.ts runs each job's command (reading the []
// moto's CloudFormation makes of an empty parameter default as ""); its CloudFormation needs a ServiceRole on the
// compute environment, loses a layer's name and ARN, and returns inline role policies as Python reprs (stack.ts,
// iam.ts, which also list what is left unfilled).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { createBatchEnvironment, registerJobDefinition } from '../integration/harness/batch-fixtures.js';
import { createBucket, createFunction, createLayer, putObject } from '../integration/harness/fixtures.js';
import { cloudFormation } from './stack.js';
import { E2E_SETUP_TIMEOUT_MS, type E2eWorld, fnArn, startE2e } from './world.js';

const TEXT = 'Grüße, 世界 🌍 — "quoted" \\ back\tslash, line\u2028separator';

// An ES module handler importing a package from its layer, as Node 18+ Lambda runtimes allow.
const NODE_HANDLER = `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { label } from 'e2e-units';

export const handler = async (event, context) => {
  const result = {
    id: event.id,
    labels: event.features.map((f) => label(f)),
    text: ${JSON.stringify(TEXT)},
    nested: { list: [1, 2.5, -3, true, null, { deep: [[], {}] }], empty: '' },
    job: process.env.AWS_BATCH_JOB_ID,
    function: context.functionName,
  };
  // What the runtime client will send, kept so the test can compare the bytes that reach S3.
  writeFileSync(join(process.env.RESULT_COPIES, process.env.AWS_BATCH_JOB_ID + '.json'), JSON.stringify(result));
  return result;
};
`;
const LAYER_MODULE = "exports.label = (f) => f.i + ': ' + f.name;\n";

const NODE_FAILING = `class TileError extends Error { name = 'TileError'; }
export const handler = async (event) => { throw new TileError('tile ' + event.id + ' is empty: ünïcödé'); };
`;

// A Cirrus v0 task: called with the payload alone; a missing context is how it knows it runs in Batch.
const CIRRUS_TASK = `import json, os

def handler(payload, context=None):
    result = dict(payload, process={"done": True}, in_batch=context is None, text=${JSON.stringify(TEXT)})
    path = os.path.join(os.environ["RESULT_COPIES"], os.environ["AWS_BATCH_JOB_ID"] + ".json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=False))
    return result
`;

const features = (n: number) => Array.from({ length: n }, (_, i) => ({ i, name: `tuile ${i} — 東京 🛰` }));

const BUCKET = 'e2e-node-existing-payloads';
let queueArn: string;
let w: E2eWorld;
before(
  async () => {
    w = await startE2e('e2e-node', {
      async parameters(h) {
        await createBucket(h, BUCKET);
        queueArn = (await createBatchEnvironment(h, 'e2e-node-existing')).jobQueueArn;
        return { PayloadBucketName: BUCKET, JobQueueArn: queueArn };
      },
    });
    const env = { RESULT_COPIES: w.dir };
    const units = await createLayer(
      w.h,
      'e2e-units',
      { 'nodejs/node_modules/e2e-units/index.js': LAYER_MODULE },
      ['nodejs24.x'],
    );
    await createFunction(w.h, {
      name: 'e2e-node',
      runtime: 'nodejs24.x',
      handler: 'index.handler',
      files: { 'index.mjs': NODE_HANDLER },
      layers: [units],
      env,
    });
    await createFunction(w.h, {
      name: 'e2e-node22',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      files: { 'index.mjs': NODE_HANDLER },
      layers: [units],
      env,
    });
    await createFunction(w.h, {
      name: 'e2e-node-failing',
      runtime: 'nodejs24.x',
      handler: 'index.handler',
      files: { 'index.mjs': NODE_FAILING },
    });
    await createFunction(w.h, {
      name: 'cirrus-task',
      handler: 'task.handler',
      files: { 'task.py': CIRRUS_TASK },
      env,
    });
  },
  { timeout: E2E_SETUP_TIMEOUT_MS },
);
after(() => w?.stop());

test('given a bucket and a queue, the stack creates neither and its outputs name the given ones', async () => {
  assert.equal(w.stack.outputs.PayloadBucket, BUCKET);
  assert.equal(w.stack.outputs.JobQueue, queueArn);
  const cfn = cloudFormation(w.h);
  const { StackResources } = await cfn.send(new DescribeStackResourcesCommand({ StackName: w.stack.name }));
  cfn.destroy();
  const created = (StackResources ?? []).filter((r) => r.PhysicalResourceId).map((r) => r.ResourceType);
  for (const type of ['AWS::S3::Bucket', 'AWS::Batch::JobQueue', 'AWS::Batch::ComputeEnvironment'])
    assert.ok(!created.includes(type), `the stack created a ${type}`);
  assert.ok(created.includes('AWS::Lambda::Function') && created.includes('AWS::Batch::JobDefinition'));
});

for (const [sizeName, count] of [
  ['a large payload through S3', 5000],
  ['a small inline payload', 20],
] as const) {
  test(`Node.js function, ${sizeName}: the result lands at url_out byte for byte`, async () => {
    const payload = { id: `node-${count}`, features: features(count) };
    const answer = await w.dispatch({ lambda_function: 'e2e-node', payload });
    assert.equal(answer.image, 'lambda');
    // A nodejs24.x function runs on the nodejs24.x image's definition (the JobDefinitions output's map of ARNs; the
    // dispatcher submits by the definition's name, its latest revision).
    const definitions = JSON.parse(w.stack.outputs.JobDefinitions ?? '{}') as Record<string, string>;
    assert.equal(
      String(definitions['lambda:nodejs24.x']).replace(/^.*:job-definition\/|:\d+$/g, ''),
      answer.job_definition,
    );
    assert.equal(answer.job_queue, queueArn);
    assert.equal(answer.url.startsWith('s3://'), count > 20, answer.url.slice(0, 40));

    const r = await w.runJob(answer.job_id);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.command, ['run', fnArn('e2e-node'), answer.url, answer.url_out]);
    const bytes = await w.read(answer.url_out);
    assert.ok(bytes, `nothing at ${answer.url_out}`);
    assert.ok(bytes.equals(await readFile(join(w.dir, `${answer.job_id}.json`))));
    assert.deepEqual(JSON.parse(bytes.toString('utf8')), {
      id: payload.id,
      labels: payload.features.map((f) => `${f.i}: ${f.name}`),
      text: TEXT,
      nested: { list: [1, 2.5, -3, true, null, { deep: [[], {}] }], empty: '' },
      job: answer.job_id,
      function: 'e2e-node',
    });
  });
}

test('a nodejs22.x job straight to the lambda:nodejs22.x definition of the JobDefinitions output', async () => {
  const definitions = JSON.parse(w.stack.outputs.JobDefinitions ?? '{}') as Record<string, string>;
  const definition = definitions['lambda:nodejs22.x'];
  assert.ok(definition, 'JobDefinitions has lambda:nodejs22.x');
  const payload = { id: 'node22', features: features(30) };
  await putObject(w.h, BUCKET, 'batch/e2e-node22/in.json', payload);
  const url = `s3://${BUCKET}/batch/e2e-node22/in.json`;
  const urlOut = `s3://${BUCKET}/batch/e2e-node22/in_out.json`;
  const { jobId } = await w.h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'node22',
      jobQueue: queueArn,
      jobDefinition: definition,
      parameters: { lambda_function: fnArn('e2e-node22'), url, url_out: urlOut },
    }),
  );
  assert.ok(jobId);
  const r = await w.runJob(jobId);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(r.command, ['run', fnArn('e2e-node22'), url, urlOut]);
  const def = await w.describeDefinition(definition);
  assert.match(String(def.containerProperties?.image), /:[^:]+-nodejs22\.x-x86_64$/);
  const result = JSON.parse(String(await w.read(urlOut))) as { id: string; labels: string[] };
  assert.equal(result.id, 'node22');
  assert.equal(result.labels.length, 30);
});

test('a failing Node.js handler ends the job with exit 1, its error name as the last line, nothing at url_out', async () => {
  const answer = await w.dispatch({ lambda_function: 'e2e-node-failing', payload: { id: 'n-3' } });
  const r = await w.runJob(answer.job_id);
  assert.equal(r.exitCode, 1, r.stderr);
  assert.equal(r.lastLine, 'TileError: tile n-3 is empty: ünïcödé');
  assert.equal(await w.read(answer.url_out), undefined);
});

test('a Cirrus v0 job definition (run Ref::lambda_function Ref::url, RUN_LAMBDA_COMPAT) writes <payload>_out.json', async () => {
  const [bucket, jobQueueArn] = [BUCKET, queueArn];
  const def = await registerJobDefinition(w.h, {
    name: 'cirrus-v0-lambda',
    image: 'cirrusgeo/run-lambda:0.2.0',
    command: ['run', 'Ref::lambda_function', 'Ref::url'],
    environment: { RUN_LAMBDA_COMPAT: 'cirrus-v0' },
  });
  const payload = {
    id: 'sentinel-2/tile',
    features: features(300),
    process: { tasks: { 'cirrus-task': {} } },
  };
  const key = 'cirrus/sentinel-2/tile/input.json';
  await putObject(w.h, bucket, key, payload);
  // As cirrus-lib submitted its Batch tasks: straight to Batch, with just these two parameters.
  const { jobId } = await w.h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'cirrus-task',
      jobQueue: jobQueueArn,
      jobDefinition: def.jobDefinitionName,
      parameters: { lambda_function: fnArn('cirrus-task'), url: `s3://${bucket}/${key}` },
    }),
  );
  assert.ok(jobId);
  const r = await w.runJob(jobId);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(r.command, ['run', fnArn('cirrus-task'), `s3://${bucket}/${key}`]);
  const out = await w.read(`s3://${bucket}/cirrus/sentinel-2/tile/input_out.json`);
  assert.ok(out, 'nothing at input_out.json');
  assert.ok(out.equals(await readFile(join(w.dir, `${jobId}.json`))));
  assert.deepEqual(JSON.parse(out.toString('utf8')), {
    ...payload,
    process: { done: true },
    in_batch: true,
    text: TEXT,
  });
  assert.deepEqual(JSON.parse(String(await w.read(`s3://${bucket}/${key}`))), payload);
});
