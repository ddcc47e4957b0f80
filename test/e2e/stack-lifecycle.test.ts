// The stack's life on moto's CloudFormation: a parameter change by UpdateStack reaches the deployed dispatcher and
// shows in what it does; StateMachine=true adds the state machine to a running stack; DeleteStack removes the stack's
// resources except those its DeletionPolicy keeps.
// What moto cannot do and the harness does instead: its Lambda runs no code, so the front answers the dispatcher's
// Invoke in this process from the deployed code and configuration (lambda-container.ts) and serves code bytes for
// GetFunction/GetLayerVersion; its Batch runs no container, so batch-exec.ts runs each job's command (reading the []
// moto's CloudFormation makes of an empty parameter default as ""); its CloudFormation needs a ServiceRole on the
// compute environment, loses a layer's name and ARN, and returns inline role policies as Python reprs (stack.ts,
// iam.ts, which also list what is left unfilled).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetLayerVersionByArnCommand } from '@aws-sdk/client-lambda';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { TEST_CREDENTIALS } from '../integration/harness/clients.js';
import { createFunction, REGION } from '../integration/harness/fixtures.js';
import { rolePolicies } from './iam.js';
import { deleteStack } from './stack.js';
import { describeStateMachine, listStateMachines } from './states-api.js';
import { type E2eWorld, startE2e } from './world.js';

const TASK = `def lambda_handler(event, context):
    return {"id": event["id"], "sum": sum(event["values"])}
`;

let w: E2eWorld;
let iam: IAMClient;
before(async () => {
  w = await startE2e('e2e-life');
  iam = new IAMClient({ endpoint: w.h.motoEndpoint, region: REGION, credentials: TEST_CREDENTIALS });
  await createFunction(w.h, { name: 'life-task', files: { 'lambda_function.py': TASK } });
});
after(async () => {
  iam?.destroy();
  await w?.stop();
});

const request = (id: string) => ({ lambda_function: 'life-task', payload: { id, values: [1, 2, 3, 4] } });
let resultUrl = '';

test('UpdateStack InlinePayloadLimit 8192 → 0: the payload that travelled inside the job now goes through S3', async () => {
  const bucket = w.stack.outputs.PayloadBucket ?? '';
  const before = await w.dispatch(request('before'));
  assert.match(before.url, /^data:application\/json;base64,/);

  await w.update({ InlinePayloadLimit: '0' });
  assert.equal(w.stack.status, 'UPDATE_COMPLETE');
  assert.equal(w.stack.parameters.InlinePayloadLimit, '0');
  assert.equal(String(w.dispatcher.configuration.Environment?.Variables?.INLINE_PAYLOAD_LIMIT), '0');
  assert.equal(w.stack.outputs.PayloadBucket, bucket, 'the update replaced nothing else');

  const answer = await w.dispatch(request('after'));
  assert.ok(answer.url.startsWith(`s3://${bucket}/batch/life-task/`), answer.url);
  assert.deepEqual(JSON.parse(String(await w.read(answer.url))), request('after').payload);
  const r = await w.runJob(answer.job_id);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(JSON.parse(String(await w.read(answer.url_out))), { id: 'after', sum: 10 });
  resultUrl = answer.url_out;
});

test('by default the stack has post-batch and no state machine; UpdateStack StateMachine=true adds the machine on the same functions', async () => {
  const { DispatcherArn, PostBatchArn } = w.stack.outputs;
  assert.ok(PostBatchArn, 'post-batch is always deployed');
  assert.equal(w.stack.parameters.StateMachine, 'false');
  assert.equal(w.stack.outputs.StateMachineArn, undefined);
  assert.deepEqual(await listStateMachines(w.h), []);
  // Without OutputBucketArns post-batch reads only the payload prefix (the other buckets' statement is not there).
  const role = String(w.postBatch.configuration.Role);
  const { statements } = await rolePolicies(w.h, role);
  const inline = statements.filter((s) => !s.from.startsWith('arn:'));
  assert.deepEqual(inline.map((s) => s.Sid).sort(), [
    'DescribeJobs',
    'ListPayloadPrefix',
    'ReadResultsAndRecords',
  ]);

  await w.update({ StateMachine: 'true' });
  assert.equal(w.stack.status, 'UPDATE_COMPLETE');
  const arn = w.stack.outputs.StateMachineArn;
  assert.ok(arn, 'the StateMachineArn output');
  assert.deepEqual(await listStateMachines(w.h), [arn]);
  const machine = await describeStateMachine(w.h, arn);
  assert.ok(machine.definition.includes(`"FunctionName": "${DispatcherArn}"`));
  assert.ok(machine.definition.includes(`"FunctionName": "${PostBatchArn}"`));
  assert.deepEqual(
    [w.stack.outputs.DispatcherArn, w.stack.outputs.PostBatchArn],
    [DispatcherArn, PostBatchArn],
  );
  const invoke = (await rolePolicies(w.h, machine.roleArn)).statements.find(
    (s) => s.Sid === 'InvokeDispatcherAndPostBatch',
  );
  assert.deepEqual(invoke?.Resource, [
    DispatcherArn,
    `${DispatcherArn}:*`,
    PostBatchArn,
    `${PostBatchArn}:*`,
  ]);
});

test('DeleteStack removes the dispatcher and the roles, and keeps what DeletionPolicy Retain keeps: the bucket and the layer', async () => {
  const { outputs, translated } = w.stack;
  const retained = Object.entries(translated.Resources)
    .filter(([, r]) => r.DeletionPolicy === 'Retain')
    .map(([, r]) => r.Type)
    .sort();
  // template.yaml: the payload bucket (results may still be wanted) and the layer (RetentionPolicy: Retain).
  assert.deepEqual(retained, ['AWS::Lambda::LayerVersion', 'AWS::S3::Bucket']);

  assert.equal(await deleteStack(w.h, w.stack), 'DELETE_COMPLETE');

  await assert.rejects(
    w.h.clients.lambda.send(new GetFunctionCommand({ FunctionName: outputs.DispatcherName })),
    { name: 'ResourceNotFoundException' },
  );
  const jobRole = outputs.JobRoleArn?.split('/').at(-1);
  await assert.rejects(iam.send(new GetRoleCommand({ RoleName: jobRole })), {
    name: 'NoSuchEntityException',
  });
  const dispatcherRole = String(w.dispatcher.configuration.Role).split('/').at(-1);
  await assert.rejects(iam.send(new GetRoleCommand({ RoleName: dispatcherRole })), {
    name: 'NoSuchEntityException',
  });
  // (moto keeps the SubmitPolicy managed policy and the Batch resources after DeleteStack: see stack.ts.)
  assert.deepEqual(await listStateMachines(w.h), [], 'the state machine is deleted');

  await w.h.clients.s3.send(new HeadBucketCommand({ Bucket: outputs.PayloadBucket }));
  assert.ok(resultUrl && (await w.read(resultUrl)), 'the results in the kept bucket are still there');
  // Through the front, which asks moto for the layer by name and version (moto answers GetLayerVersionByArn wrongly).
  const layer = await w.h.frontClients.lambda.send(
    new GetLayerVersionByArnCommand({ Arn: outputs.HelperLayerArn }),
  );
  assert.equal(layer.LayerVersionArn, outputs.HelperLayerArn);
});
