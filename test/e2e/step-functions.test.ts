// The state machine end to end on one machine: template.yaml deployed with StateMachine=true (and a Cirrus-like
// bucket in OutputBucketArns) on moto's CloudFormation; its definition read back from moto's Step Functions and run
// state by state: Plan (the deployed dispatcher in plan mode) → RunJob (exactly the plan's submit_job, as RunJob's
// Arguments render it, submitted to moto and run by the harness's Batch executor) → PostBatch (the deployed post-batch,
// handed the job description built from moto's DescribeJobs in the shape Step Functions hands it); then every AWS call
// made on the way is checked against the deployed IAM policies.
// What moto cannot do and the harness does instead: its Step Functions cannot run this definition (no JSONata, and
// its tasks call a Lambda that runs no code and a Batch that runs no container), so step-functions.ts plays it; its
// CloudFormation creates a state machine from DefinitionString only, so stack.ts passes the uploaded definition and
// its substitutions that way; its Batch marks every job SUCCEEDED at submit with no exit code, so the description
// gets the status and exit code the executed container ended with (describedAsRun in batch-exec.ts); its Lambda
// runs no code, so the front answers the dispatcher's and post-batch's Invoke from their deployed code
// (lambda-container.ts); its IAM returns inline role policies as Python reprs (iam.ts).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { BatchJobPlanAnswer } from '../../lib/request.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { REPO_ROOT } from '../integration/harness/batch-exec.js';
import {
  ACCOUNT_ID,
  createBucket,
  createFunction,
  putObject,
  REGION,
} from '../integration/harness/fixtures.js';
import { callerOf, decide, permissionsFor, rolePolicies, wildcardAllows } from './iam.js';
import { cloudFormation } from './stack.js';
import { type DeployedStateMachine, describeStateMachine } from './states-api.js';
import {
  type Asl,
  BATCH_SUBMIT_JOB_SYNC,
  type Execution,
  LAMBDA_INVOKE,
  runExecution,
  type Step,
} from './step-functions.js';
import { Callers, type E2eWorld, fnArn, network, startE2e } from './world.js';

const CIRRUS_BUCKET = 'e2e-sfn-cirrus-payloads';

const TASK_PY = `import os

def lambda_handler(event, context):
    return {"id": event["id"], "sum": sum(event["values"]), "job": os.environ["AWS_BATCH_JOB_ID"]}
`;
const LARGE_PY = `def lambda_handler(event, context):
    return {"id": event["id"], "blob": "x" * event["chars"]}
`;
const FAILING_PY = `def lambda_handler(event, context):
    raise ValueError("tile %s has no bands" % event["id"])
`;

let w: E2eWorld;
let machine: DeployedStateMachine;
let definition: Asl;
before(async () => {
  w = await startE2e('e2e-sfn', {
    parameters: async (h) => {
      await createBucket(h, CIRRUS_BUCKET);
      return {
        ...(await network(h)),
        StateMachine: 'true',
        OutputBucketArns: `arn:aws:s3:::${CIRRUS_BUCKET}`,
      };
    },
  });
  await createFunction(w.h, { name: 'sfn-task', files: { 'lambda_function.py': TASK_PY } });
  await createFunction(w.h, { name: 'sfn-large', files: { 'lambda_function.py': LARGE_PY } });
  await createFunction(w.h, { name: 'sfn-failing', files: { 'lambda_function.py': FAILING_PY } });
  machine = await describeStateMachine(w.h, out('StateMachineArn'));
  definition = JSON.parse(machine.definition) as Asl;
});
after(() => w?.stop());

function out(name: string): string {
  const value = w.stack.outputs[name];
  assert.ok(value, `the stack has no output ${name}`);
  return value;
}

const stepsOf = (ex: Execution) => ex.steps.map((s) => s.state);
const stepNamed = (ex: Execution, name: string): Step => {
  const s = ex.steps.find((x) => x.state === name);
  assert.ok(s, `the execution went through no ${name} (it went ${stepsOf(ex).join(' → ')})`);
  return s;
};
const logReads = () => w.h.front.requests.filter((r) => r.service === 'logs');

test('the deployed state machine is the definition file with the stack’s two function ARNs, and names nothing the stack did not create', async () => {
  const file = await readFile(join(REPO_ROOT, 'statemachine/lambda-as-batch.asl.json'), 'utf8');
  assert.equal(
    machine.definition,
    file
      .replaceAll(`\${DispatcherFunctionArn}`, out('DispatcherArn'))
      .replaceAll(`\${PostBatchFunctionArn}`, out('PostBatchArn')),
  );
  assert.equal(machine.type, 'STANDARD');
  const arns = new Set([...machine.definition.matchAll(/"(arn:[^"]+)"/g)].map((m) => m[1]));
  assert.deepEqual(
    [...arns].sort(),
    [LAMBDA_INVOKE, BATCH_SUBMIT_JOB_SYNC, out('DispatcherArn'), out('PostBatchArn')].sort(),
  );
  // The functions, the role and the machine are this stack's resources.
  const cfn = cloudFormation(w.h);
  const { StackResources } = await cfn.send(new DescribeStackResourcesCommand({ StackName: w.stack.name }));
  cfn.destroy();
  const physical = (id: string) =>
    StackResources?.find((r) => r.LogicalResourceId === id)?.PhysicalResourceId;
  assert.equal(physical('LambdaAsBatchStateMachine'), out('StateMachineArn'));
  assert.equal(machine.roleArn.split('/').at(-1), physical('StateMachineRole')?.split('/').at(-1));
  assert.equal(out('DispatcherName'), physical('Dispatcher'));
  assert.equal(out('PostBatchName'), physical('PostBatch'));
});

test('the post-batch answering Invoke is what the stack deployed: the packaged dist/post-batch, byte for byte, on nodejs24.x', async () => {
  const { configuration, taskRoot } = w.postBatch;
  const artifact = w.stack.artifacts['dist/post-batch'];
  assert.ok(artifact, 'dist/post-batch was packaged');
  assert.equal(configuration.CodeSha256, artifact.codeSha256, 'Lambda reports the packaged zip');
  assert.equal(configuration.Runtime, 'nodejs24.x');
  const env = configuration.Environment?.Variables ?? {};
  assert.equal(String(env.MAX_INLINE_RESULT), w.stack.parameters.MaxInlineResult);
  assert.equal(w.stack.parameters.MaxInlineResult, '120000');
  for (const file of ['index.mjs', 'index.mjs.map']) {
    const built = await readFile(join(REPO_ROOT, 'dist/post-batch', file));
    assert.ok(built.equals(await readFile(join(taskRoot, file))), `${file} differs from npm run build's`);
  }
});

test("a request runs Plan → RunJob → PostBatch, each state's input the output of the one before, and ends with the function's result", async () => {
  const request = { lambda_function: 'sfn-task', payload: { id: 'ok-1', values: [1, 2, 3] } };
  const ex = await runExecution(w, definition, request);
  assert.deepEqual(stepsOf(ex), ['Plan', 'RunJob', 'PostBatch', 'Succeeded']);
  const [plan, run, post] = ex.steps as [Step, Step, Step];

  // Plan: the dispatcher, asked by the state machine with plan: true, stored the payload and submitted nothing.
  const asked = w.h.front
    .calls('lambda', 'Invoke')
    .filter((r) => callerOf(r) === Callers.stateMachine && r.path.includes(out('DispatcherName')));
  assert.deepEqual(asked.at(-1)?.body, { ...request, plan: true });
  const answer = plan.output as BatchJobPlanAnswer;
  const submitJob = answer.submit_job as { jobQueue: string; jobDefinition: string; parameters: unknown };
  assert.equal(submitJob.jobQueue, out('JobQueue'));
  assert.equal(submitJob.jobDefinition, out('LambdaJobDefinitionArn'));
  assert.deepEqual(submitJob.parameters, {
    lambda_function: fnArn('sfn-task'),
    url: answer.url,
    url_out: answer.url_out,
  });
  const submits = w.h.front.calls('batch', 'SubmitJob');
  assert.ok(
    submits.every((r) => callerOf(r) !== Callers.dispatcher),
    'the dispatcher submitted a job in plan mode',
  );

  // RunJob: handed the plan; what reached Batch is exactly submit_job, plus the variable Step Functions adds.
  assert.deepEqual(run.input, answer);
  assert.ok(run.job, 'RunJob ran a job');
  const submitted = submits.find((r) => (r.response as { jobId?: string })?.jobId === run.job?.jobId);
  assert.equal(callerOf(submitted!), Callers.stateMachine);
  assert.deepEqual(submitted?.body, {
    ...answer.submit_job,
    containerOverrides: { environment: [{ name: 'MANAGED_BY_AWS', value: 'STARTED_BY_STEP_FUNCTIONS' }] },
  });
  assert.equal(run.job.run.exitCode, 0, run.job.run.stderr);
  assert.deepEqual(run.job.run.command, ['run', fnArn('sfn-task'), answer.url, answer.url_out]);

  // PostBatch: handed the job description, which names the job and its url_out.
  assert.deepEqual(post.input, run.output);
  const description = post.input as {
    JobId: string;
    Status: string;
    Parameters: { url_out: string };
    Container: { ExitCode: number };
  };
  assert.deepEqual(
    [description.JobId, description.Status, description.Parameters.url_out, description.Container.ExitCode],
    [run.job.jobId, 'SUCCEEDED', answer.url_out, 0],
  );
  assert.equal(ex.status, 'SUCCEEDED');
  assert.deepEqual(ex.status === 'SUCCEEDED' && ex.output, { id: 'ok-1', sum: 6, job: run.job.jobId });
  assert.deepEqual(logReads(), []);
});

test('a result over MaxInlineResult characters comes back as {url} to where the job wrote it', async () => {
  const chars = Number(w.stack.parameters.MaxInlineResult) + 1;
  const ex = await runExecution(w, definition, {
    lambda_function: 'sfn-large',
    payload: { id: 'big', chars },
  });
  assert.equal(ex.status, 'SUCCEEDED');
  const answer = stepNamed(ex, 'Plan').output as BatchJobPlanAnswer;
  assert.deepEqual(ex.status === 'SUCCEEDED' && ex.output, { url: answer.url_out });
  const written = JSON.parse(String(await w.read(answer.url_out))) as { blob: string };
  assert.equal(written.blob.length, chars);
});

test("Cirrus's pre-batch output {url, url_out} in its own bucket (one of OutputBucketArns) plus lambda_function: the result is read there", async () => {
  const payload = { id: 'cirrus-1', values: [10, 20] };
  await putObject(w.h, CIRRUS_BUCKET, 'sfn/workflow/abc/input.json', payload);
  const request = {
    lambda_function: fnArn('sfn-task'),
    url: `s3://${CIRRUS_BUCKET}/sfn/workflow/abc/input.json`,
    url_out: `s3://${CIRRUS_BUCKET}/sfn/workflow/abc/output.json`,
  };
  const ex = await runExecution(w, definition, request);
  assert.deepEqual(stepsOf(ex), ['Plan', 'RunJob', 'PostBatch', 'Succeeded']);
  const run = stepNamed(ex, 'RunJob');
  assert.deepEqual(run.job?.run.command, ['run', request.lambda_function, request.url, request.url_out]);
  assert.deepEqual(ex.status === 'SUCCEEDED' && ex.output, { id: 'cirrus-1', sum: 30, job: run.job?.jobId });
  assert.deepEqual(JSON.parse(String(await w.read(request.url_out))), {
    id: 'cirrus-1',
    sum: 30,
    job: run.job?.jobId,
  });
});

/** Removes the job's run record, as a runner older than run records leaves none. */
async function dropRecord(answer: BatchJobPlanAnswer) {
  const { bucket, key } = parseS3Url(answer.record_url);
  await w.h.clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

test("a failing task with no run record: RunJob's Catch hands post-batch the failed job in Cause, and the execution fails as ContainerExitedError with the exit code", async () => {
  const ex = await runExecution(
    w,
    definition,
    { lambda_function: 'sfn-failing', payload: { id: 'bad-1' } },
    {
      afterJob: (input) => dropRecord(input as BatchJobPlanAnswer),
    },
  );
  assert.deepEqual(stepsOf(ex), ['Plan', 'RunJob', 'PostBatch', 'Failed']);
  const answer = stepNamed(ex, 'Plan').output as BatchJobPlanAnswer;
  const run = stepNamed(ex, 'RunJob');
  assert.equal(run.job?.run.exitCode, 1);
  assert.match(run.job?.run.lastLine ?? '', /^ValueError: tile bad-1 has no bands$/);
  assert.equal(run.error?.Error, 'States.TaskFailed');

  const post = stepNamed(ex, 'PostBatch');
  const input = post.input as BatchJobPlanAnswer & { error: { Error: string; Cause: string } };
  assert.deepEqual(
    { ...input, error: undefined },
    { ...answer, error: undefined },
    'the plan goes on to post-batch',
  );
  assert.deepEqual(input.error, run.error);
  const job = JSON.parse(input.error.Cause) as {
    JobId: string;
    Status: string;
    StatusReason: string;
    Container: { ExitCode: number };
    Parameters: { url_out: string };
  };
  assert.deepEqual(
    [job.JobId, job.Status, job.Container.ExitCode, job.Parameters.url_out],
    [run.job?.jobId, 'FAILED', 1, answer.url_out],
  );

  assert.equal(ex.status, 'FAILED');
  if (ex.status !== 'FAILED') return;
  assert.equal(ex.error, 'ContainerExitedError');
  const cause = JSON.parse(ex.cause) as { errorType: string; errorMessage: string };
  assert.equal(cause.errorType, 'ContainerExitedError');
  assert.match(cause.errorMessage, new RegExp(`job ${job.JobId} .*failed without a run record.*exit code 1`));
  assert.deepEqual(logReads(), []);
});

test("a failing Python task's ValueError reaches the execution's error as ValueError, from its run record, without a log read", async () => {
  const ex = await runExecution(w, definition, { lambda_function: 'sfn-failing', payload: { id: 'bad-2' } });
  assert.deepEqual(stepsOf(ex), ['Plan', 'RunJob', 'PostBatch', 'Failed']);
  const answer = stepNamed(ex, 'Plan').output as BatchJobPlanAnswer;
  const record = JSON.parse(String(await w.read(answer.record_url))) as {
    status: string;
    error: { errorType: string };
  };
  assert.deepEqual([record.status, record.error.errorType], ['failed', 'ValueError']);
  assert.equal(ex.status, 'FAILED');
  if (ex.status !== 'FAILED') return;
  assert.equal(ex.error, 'ValueError');
  assert.equal((JSON.parse(ex.cause) as { errorMessage: string }).errorMessage, 'tile bad-2 has no bands');
  assert.deepEqual(logReads(), []);
});

// Runs last: it reads what every call above did from the front's log.
test('IAM: every call the state machine, the dispatcher and post-batch made above is allowed by the deployed policies, and no more', async () => {
  const roles = {
    stateMachine: machine.roleArn,
    dispatcher: String(w.dispatcher.configuration.Role),
    postBatch: String(w.postBatch.configuration.Role),
  };
  const needs: Record<keyof typeof roles, string[]> = {
    stateMachine: ['lambda:InvokeFunction', 'batch:SubmitJob', 'batch:DescribeJobs'],
    dispatcher: ['lambda:GetFunctionConfiguration', 'lambda:ListTags'],
    postBatch: ['s3:GetObject'],
  };
  const statements: Record<string, Awaited<ReturnType<typeof rolePolicies>>['statements']> = {};
  for (const who of Object.keys(roles) as (keyof typeof roles)[]) {
    statements[who] = (await rolePolicies(w.h, roles[who])).statements;
    assert.ok(statements[who].length > 0, `${who}: no policies read back from IAM`);
    assert.deepEqual(wildcardAllows(statements[who]), [], `${who}: an Allow with a wildcard action`);
    const calls = w.h.front.requests.filter((r) => callerOf(r) === Callers[who]);
    const permissions = calls.flatMap((r) => permissionsFor(r, REGION, ACCOUNT_ID));
    const seen = new Set(permissions.map((p) => p.action));
    for (const action of needs[who]) assert.ok(seen.has(action), `${who} made no ${action} call`);
    assert.deepEqual(
      permissions.filter((p) => decide(statements[who]!, p) !== 'allow'),
      [],
      `${who} would be refused these`,
    );
  }
  const allowed = (who: string, action: string, resource: string, prefix?: string) =>
    decide(statements[who]!, { action, resource, prefix }) === 'allow';
  const definitionArn = (name: string) => `arn:aws:batch:${REGION}:${ACCOUNT_ID}:job-definition/${name}`;

  // The .sync integration's own calls, which Step Functions makes (not played here): its managed rule only.
  const rule = `arn:aws:events:${REGION}:${ACCOUNT_ID}:rule/StepFunctionsGetEventsForBatchJobsRule`;
  for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'])
    assert.ok(allowed('stateMachine', action, rule), action);
  assert.ok(!allowed('stateMachine', 'events:PutRule', `arn:aws:events:${REGION}:${ACCOUNT_ID}:rule/other`));
  // .sync ends its job when the execution is stopped: any job of this account and region, no other.
  const job = (account: string, region: string) =>
    `arn:aws:batch:${region}:${account}:job/0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e`;
  assert.ok(allowed('stateMachine', 'batch:TerminateJob', job(ACCOUNT_ID, REGION)));
  assert.ok(!allowed('stateMachine', 'batch:TerminateJob', job('999999999999', REGION)));
  assert.ok(!allowed('stateMachine', 'batch:TerminateJob', job(ACCOUNT_ID, 'eu-west-1')));
  // Only the stack's functions, queue and job definitions (an image function's, by its name, included).
  assert.ok(!allowed('stateMachine', 'lambda:InvokeFunction', fnArn('sfn-task')));
  const otherQueue = `arn:aws:batch:${REGION}:${ACCOUNT_ID}:job-queue/another-queue`;
  assert.ok(!allowed('stateMachine', 'batch:SubmitJob', otherQueue));
  assert.ok(
    allowed('stateMachine', 'batch:SubmitJob', definitionArn(`${w.stack.name}-fn-sfn-task-0123456789ab:1`)),
  );
  assert.ok(!allowed('stateMachine', 'batch:SubmitJob', definitionArn('another-stack-lambda:1')));

  // post-batch reads under the payload prefix and in OutputBucketArns, lists only the prefix there, and nothing else.
  const bucket = out('PayloadBucket');
  const prefix = w.stack.parameters.PayloadPrefix ?? '';
  assert.ok(allowed('postBatch', 's3:GetObject', `arn:aws:s3:::${CIRRUS_BUCKET}/any/key.json`));
  assert.ok(allowed('postBatch', 's3:ListBucket', `arn:aws:s3:::${CIRRUS_BUCKET}`, 'any/'));
  assert.ok(allowed('postBatch', 's3:ListBucket', `arn:aws:s3:::${bucket}`, `${prefix}sfn-task/`));
  assert.ok(!allowed('postBatch', 's3:ListBucket', `arn:aws:s3:::${bucket}`, 'elsewhere/'));
  assert.ok(!allowed('postBatch', 's3:GetObject', `arn:aws:s3:::${bucket}/elsewhere/x.json`));
  assert.ok(!allowed('postBatch', 's3:GetObject', 'arn:aws:s3:::some-other-bucket/x.json'));
  assert.ok(!allowed('postBatch', 's3:PutObject', `arn:aws:s3:::${bucket}/${prefix}x.json`));
});
