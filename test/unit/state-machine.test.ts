// The state machine of docs/step-functions.md (statemachine/lambda-as-batch.asl.json): asl-validator checks it as
// Step Functions would take it (substitutions filled in), and its JSONata expressions are run with the jsonata
// version Step Functions implements (2.0.6) on the shapes each state hands the next.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import validator from 'asl-validator';
import { parseEvent } from '../../functions/post-batch/event.js';
import type { JobView } from '../../functions/post-batch/job.js';
import { parseRequest } from '../../lib/request-parse.js';
import { evaluate } from '../support/asl-jsonata.js';
import { loadTemplate, resource } from '../support/cfn-yaml.js';

const ASL_FILE = new URL('../../statemachine/lambda-as-batch.asl.json', import.meta.url);
const text = readFileSync(ASL_FILE, 'utf8');
const SUBSTITUTIONS = {
  DispatcherFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:stack-Dispatcher',
  PostBatchFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:stack-PostBatch',
};

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Arguments?: unknown;
  Output?: string;
  Error?: string;
  Cause?: string;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string; Output?: string }[];
}
const asl = JSON.parse(text) as { StartAt: string; QueryLanguage: string; States: Record<string, State> };
const deployed = JSON.parse(
  text.replace(
    /\$\{(\w+)\}/g,
    (_, k: string) => SUBSTITUTIONS[k as keyof typeof SUBSTITUTIONS] ?? `\${${k}}`,
  ),
);
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/step-functions/${name}`, import.meta.url), 'utf8'));

test('the definition uses exactly the substitutions the template passes, each of them', () => {
  const used = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
  assert.deepEqual([...used].sort(), Object.keys(SUBSTITUTIONS).sort());
  const machine = resource(loadTemplate(), 'LambdaAsBatchStateMachine').Properties ?? {};
  assert.deepEqual(Object.keys(machine.DefinitionSubstitutions as object).sort(), [...used].sort());
});

test('asl-validator accepts the definition with its substitutions filled in', () => {
  const { isValid, errorsText } = validator(deployed);
  assert.ok(isValid, errorsText?.('\n'));
});

test('asl-validator would refuse a definition whose Catch names a missing state (the check can fail)', () => {
  const broken = structuredClone(deployed);
  broken.States.RunJob.Catch[0].Next = 'NoSuchState';
  assert.equal(validator(broken).isValid, false);
});

test('the states chain: StartAt, every Next and Catch target exist, every state is reached, and the ends are ends', () => {
  const names = Object.keys(asl.States);
  assert.ok(names.includes(asl.StartAt));
  const reached = new Set<string>();
  const visit = (name: string) => {
    if (reached.has(name)) return;
    assert.ok(names.includes(name), `no state ${name}`);
    reached.add(name);
    const s = asl.States[name]!;
    if (s.Next) visit(s.Next);
    for (const c of s.Catch ?? []) visit(c.Next);
    if (!s.Next) assert.ok(s.End || ['Succeed', 'Fail'].includes(s.Type), `${name} neither ends nor goes on`);
  };
  visit(asl.StartAt);
  assert.deepEqual([...reached].sort(), names.sort());
});

test('the job runs through batch:submitJob.sync, retried on Batch API errors and throttling, and every failure goes to post-batch', () => {
  const run = asl.States.RunJob!;
  assert.equal(asl.QueryLanguage, 'JSONata');
  assert.equal(run.Resource, 'arn:aws:states:::batch:submitJob.sync');
  assert.deepEqual(run.Retry?.[0]?.ErrorEquals, [
    'Batch.AWSBatchException',
    'Batch.ServerException',
    'Batch.TooManyRequestsException',
  ]);
  assert.deepEqual(
    run.Catch?.map((c) => [c.ErrorEquals, c.Next]),
    [[['States.ALL'], 'PostBatch']],
  );
  assert.equal(run.Next, 'PostBatch');
  const catches = asl.States.PostBatch!.Catch!.map((c) => [c.ErrorEquals, c.Next]);
  assert.deepEqual(catches, [
    [['cirrus.lib.errors.InvalidInput', 'InvalidInput'], 'InvalidInput'],
    [['States.ALL'], 'Failed'],
  ]);
});

// A Cirrus pre-batch output plus the function: the input of an execution.
const PRE_BATCH = {
  lambda_function: 'arn:aws:lambda:us-east-1:123456789012:function:my-task',
  url: 's3://cirrus-payloads/batch/workflow/abc.json',
  url_out: 's3://cirrus-payloads/batch/workflow/abc_out.json',
};
// The dispatcher's plan answer as docs/dispatcher.md "Plan" lists it; submit_job is the SDK's SubmitJob input (camelCase).
const PLAN_ANSWER = {
  job_name: 'my-task',
  job_queue: 'lambda-as-batch',
  job_definition: 'lambda-as-batch-lambda',
  image: 'lambda',
  url: PRE_BATCH.url,
  url_out: PRE_BATCH.url_out,
  record_url: 's3://cirrus-payloads/batch/workflow/abc_out.run.json',
  submit_job: {
    jobName: 'my-task',
    jobQueue: 'lambda-as-batch',
    jobDefinition: 'lambda-as-batch-lambda',
    parameters: {
      lambda_function: PRE_BATCH.lambda_function,
      url: PRE_BATCH.url,
      url_out: PRE_BATCH.url_out,
    },
    arrayProperties: { size: 100 },
    containerOverrides: {
      resourceRequirements: [{ type: 'MEMORY', value: '8192' }],
      environment: [
        { name: 'RUN_LAMBDA_ITEM_COUNT', value: '1000' },
        { name: 'RUN_LAMBDA_ITEMS_PER_JOB', value: '10' },
      ],
    },
    timeout: { attemptDurationSeconds: 7200 },
    retryStrategy: {
      attempts: 3,
      evaluateOnExit: [
        { onStatusReason: 'Host EC2*', action: 'RETRY' },
        { onExitCode: '*', action: 'EXIT' },
      ],
    },
    tags: { 'cirrus:workflow': 'wf' },
  },
};
// The same in the field names batch:submitJob.sync takes (Step Functions' PascalCase; map keys as they are).
const SUBMIT_JOB_SYNC_ARGUMENTS = {
  JobName: 'my-task',
  JobQueue: 'lambda-as-batch',
  JobDefinition: 'lambda-as-batch-lambda',
  Parameters: { lambda_function: PRE_BATCH.lambda_function, url: PRE_BATCH.url, url_out: PRE_BATCH.url_out },
  ArrayProperties: { Size: 100 },
  ContainerOverrides: {
    ResourceRequirements: [{ Type: 'MEMORY', Value: '8192' }],
    Environment: [
      { Name: 'RUN_LAMBDA_ITEM_COUNT', Value: '1000' },
      { Name: 'RUN_LAMBDA_ITEMS_PER_JOB', Value: '10' },
    ],
  },
  Timeout: { AttemptDurationSeconds: 7200 },
  RetryStrategy: {
    Attempts: 3,
    EvaluateOnExit: [
      { OnStatusReason: 'Host EC2*', Action: 'RETRY' },
      { OnExitCode: '*', Action: 'EXIT' },
    ],
  },
  Tags: { 'cirrus:workflow': 'wf' },
};

test('Plan hands the dispatcher the execution input with plan: true; a pre-batch {url, url_out} + lambda_function is a request', async () => {
  const args = (await evaluate(deployed.States.Plan.Arguments, { input: PRE_BATCH })) as Record<
    string,
    unknown
  >;
  assert.equal(args.FunctionName, SUBSTITUTIONS.DispatcherFunctionArn);
  assert.deepEqual(args.Payload, { ...PRE_BATCH, plan: true });
  assert.deepEqual(parseRequest(PRE_BATCH), PRE_BATCH);
  assert.deepEqual(
    await evaluate(asl.States.Plan!.Output, { result: { Payload: PLAN_ANSWER, StatusCode: 200 } }),
    PLAN_ANSWER,
  );
});

test("RunJob hands batch:submitJob.sync the plan's submit_job in PascalCase, parameter and tag keys as they are", async () => {
  const run = asl.States.RunJob!.Arguments;
  assert.deepEqual(await evaluate(run, { input: PLAN_ANSWER }), SUBMIT_JOB_SYNC_ARGUMENTS);
  // A plan already in PascalCase passes unchanged; one resource requirement stays a list of one.
  assert.deepEqual(
    await evaluate(run, { input: { submit_job: SUBMIT_JOB_SYNC_ARGUMENTS } }),
    SUBMIT_JOB_SYNC_ARGUMENTS,
  );
  const small = { jobName: 'a', jobQueue: 'q', jobDefinition: 'd', parameters: {} };
  assert.deepEqual(await evaluate(run, { input: { submit_job: small } }), {
    JobName: 'a',
    JobQueue: 'q',
    JobDefinition: 'd',
    Parameters: {},
  });
});

test('on success post-batch is handed the job description, which it reads as the job with its url_out', async () => {
  const jobDescription = fixture('submit-job-sync-succeeded.json');
  const args = (await evaluate(deployed.States.PostBatch.Arguments, { input: jobDescription })) as Record<
    string,
    unknown
  >;
  assert.equal(args.FunctionName, SUBSTITUTIONS.PostBatchFunctionArn);
  const input = parseEvent(args.Payload);
  assert.equal(input.kind, 'job');
  assert.equal(
    (input as { job: JobView }).job.parameters.url_out,
    's3://payloads/batch/my-task/0f8e_out.json',
  );
});

test('on failure RunJob\'s Catch hands post-batch its input with the error under "error", which it reads as the failed job', async () => {
  const { error } = fixture('submit-job-sync-failed-caught.json');
  const caught = (await evaluate(asl.States.RunJob!.Catch![0]!.Output, {
    input: PLAN_ANSWER,
    errorOutput: error,
  })) as Record<string, unknown>;
  assert.equal(caught.record_url, PLAN_ANSWER.record_url);
  assert.deepEqual(caught.error, error);
  const input = parseEvent(caught);
  assert.equal(input.kind, 'job');
  assert.equal((input as { job: JobView }).job.status, 'FAILED');
});

test("a post-batch error ends the execution under the function's own error name and cause", async () => {
  const errorOutput = {
    Error: 'ValueError',
    Cause: JSON.stringify({ errorType: 'ValueError', errorMessage: 'bad band' }),
  };
  for (const name of ['Failed', 'InvalidInput']) {
    const s = asl.States[name]!;
    assert.equal(s.Type, 'Fail');
    assert.equal(await evaluate(s.Error, { input: errorOutput }), 'ValueError');
    assert.equal(await evaluate(s.Cause, { input: errorOutput }), errorOutput.Cause);
  }
});
