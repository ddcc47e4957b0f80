// Runs the state machine the stack deployed, state by state, as Step Functions would, on the e2e world.
// moto keeps the state machine (DescribeStateMachine answers the definition CloudFormation created) but cannot run
// this one: its interpreter (config stepfunctions.execute_state_machine) evaluates no JSONata (moto 5.2.1 leaves out
// the JVM bridge its JSONata needs, moto/stepfunctions/parser/asl/jsonata/jsonata.py), and its tasks call moto's own
// Lambda, which runs no code, and Batch, which runs no container. This file fills exactly that: it walks the
// deployed definition from StartAt, evaluates each state's JSONata fields (Arguments, Output, a Catch's Output, a Fail
// state's Error and Cause) with jsonata 2.0.6, and performs each task as its service integration does, signed as the
// state machine's role (Callers.stateMachine), through the front:
// - arn:aws:states:::lambda:invoke: Invoke FunctionName with Payload; the result is {ExecutedVersion, Payload,
//   StatusCode}; a function error is an error named its errorType, with the error body as Cause.
// - arn:aws:states:::batch:submitJob.sync: SubmitJob with the Arguments under the API's member names (Step Functions'
//   PascalCase with the first letter lowered; the keys of the Parameters and Tags maps as they are) and the
//   MANAGED_BY_AWS=STARTED_BY_STEP_FUNCTIONS variable Step Functions adds; Batch's part (running the job) is the
//   harness's executor; then DescribeJobs, the job as its container ended (describedAsRun), PascalCased. A SUCCEEDED
//   job is the output; a FAILED one the error States.TaskFailed with the description as Cause.
// - Catch: the first whose ErrorEquals names the error or States.ALL; its Output, else the error output, is the next
//   state's input. Retry is not played: no call here fails transiently (test/unit/state-machine.test.ts checks the
//   retriers), and the job definition's own retry strategy is Batch's (retryAction in world.ts).
import assert from 'node:assert/strict';
import { type BatchClient, DescribeJobsCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describedAsRun, type JobResult } from '../integration/harness/batch-exec.js';
import { makeClients } from '../integration/harness/clients.js';
import { asStepFunctionsOutput } from '../integration/post-batch-world.js';
import { evaluate } from '../support/asl-jsonata.js';
import { Callers, type E2eWorld } from './world.js';

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const BATCH_SUBMIT_JOB_SYNC = 'arn:aws:states:::batch:submitJob.sync';

export interface AslState {
  Type: string;
  Resource?: string;
  Arguments?: unknown;
  Output?: unknown;
  Next?: string;
  End?: boolean;
  Catch?: { ErrorEquals: string[]; Next: string; Output?: unknown }[];
  Error?: unknown;
  Cause?: unknown;
}
export interface Asl {
  QueryLanguage?: string;
  StartAt: string;
  States: Record<string, AslState>;
}

/** A caught or uncaught error of a state: Step Functions' {Error, Cause}. */
export class StateError extends Error {
  constructor(
    readonly errorName: string,
    readonly errorCause: string,
  ) {
    super(`${errorName}: ${errorCause}`);
  }
}

/** One state's step: what it was handed and what it handed on (or the error it raised). */
export interface Step {
  state: string;
  input: unknown;
  output?: unknown;
  error?: { Error: string; Cause: string };
  /** for the Batch state: the job's id and how its container ended */
  job?: { jobId: string; run: JobResult };
}

export type Execution =
  | { status: 'SUCCEEDED'; output: unknown; steps: Step[] }
  | { status: 'FAILED'; error: string; cause: string; steps: Step[] };

/** Step Functions' PascalCase Arguments under the Batch API's member names (map keys left as they are). */
export function apiMembers(v: unknown, isMap = false): unknown {
  if (Array.isArray(v)) return v.map((x) => apiMembers(x));
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) =>
      isMap ? [k, x] : [k[0]!.toLowerCase() + k.slice(1), apiMembers(x, k === 'Parameters' || k === 'Tags')],
    ),
  );
}

interface Integration {
  lambda: LambdaClient;
  batch: BatchClient;
}

async function lambdaInvoke(x: Integration, args: Record<string, unknown>): Promise<unknown> {
  const out = await x.lambda.send(
    new InvokeCommand({
      FunctionName: String(args.FunctionName),
      Payload: Buffer.from(JSON.stringify(args.Payload ?? {})),
    }),
  );
  const text = Buffer.from(out.Payload ?? []).toString('utf8');
  if (out.FunctionError) {
    const body = JSON.parse(text) as { errorType?: string };
    throw new StateError(body.errorType ?? 'Lambda.Unknown', text);
  }
  return {
    ExecutedVersion: out.ExecutedVersion,
    Payload: JSON.parse(text || 'null'),
    StatusCode: out.StatusCode,
  };
}

export interface ExecutionOptions {
  /** called after the job ran, before it is described, with the Batch state's input */
  afterJob?: (input: unknown) => Promise<void>;
}

async function submitJobSync(
  w: E2eWorld,
  x: Integration,
  args: Record<string, unknown>,
  step: Step,
  opts: ExecutionOptions,
): Promise<unknown> {
  const input = apiMembers(args) as ConstructorParameters<typeof SubmitJobCommand>[0] & {
    containerOverrides?: { environment?: { name: string; value: string }[] };
  };
  input.containerOverrides = {
    ...input.containerOverrides,
    environment: [
      ...(input.containerOverrides?.environment ?? []),
      { name: 'MANAGED_BY_AWS', value: 'STARTED_BY_STEP_FUNCTIONS' },
    ],
  };
  const { jobId } = await x.batch.send(new SubmitJobCommand(input));
  assert.ok(jobId, 'SubmitJob answered no jobId');
  const run = await w.runJob(jobId);
  step.job = { jobId, run };
  await opts.afterJob?.(step.input);
  const { jobs } = await x.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
  assert.equal(jobs?.length, 1, `DescribeJobs knows no job ${jobId}`);
  const described = asStepFunctionsOutput(describedAsRun(jobs[0]!, run));
  if (described.Status !== 'SUCCEEDED') throw new StateError('States.TaskFailed', JSON.stringify(described));
  return described;
}

const catches = (c: { ErrorEquals: string[] }, error: string) =>
  c.ErrorEquals.includes(error) || c.ErrorEquals.includes('States.ALL');

/** Runs `definition` on `input` until a Succeed or Fail state, recording each step. */
export async function runExecution(
  w: E2eWorld,
  definition: Asl,
  input: unknown,
  opts: ExecutionOptions = {},
): Promise<Execution> {
  assert.equal(definition.QueryLanguage, 'JSONata', 'only JSONata state machines are played here');
  const clients = makeClients(w.h.front.endpoint, Callers.stateMachine);
  const x: Integration = { lambda: clients.lambda, batch: clients.batch };
  const steps: Step[] = [];
  let name = definition.StartAt;
  let current: unknown = input;
  try {
    for (let n = 0; n < 100; n++) {
      const state = definition.States[name];
      assert.ok(state, `no state ${name}`);
      const step: Step = { state: name, input: current };
      steps.push(step);
      if (state.Type === 'Succeed') return { status: 'SUCCEEDED', output: current, steps };
      if (state.Type === 'Fail')
        return {
          status: 'FAILED',
          error: String(await evaluate(state.Error, { input: current })),
          cause: String(await evaluate(state.Cause, { input: current })),
          steps,
        };
      assert.equal(state.Type, 'Task', `state ${name}: ${state.Type} is not played here`);
      try {
        const args = (await evaluate(state.Arguments, { input: current })) as Record<string, unknown>;
        let result: unknown;
        if (state.Resource === LAMBDA_INVOKE) result = await lambdaInvoke(x, args);
        else if (state.Resource === BATCH_SUBMIT_JOB_SYNC)
          result = await submitJobSync(w, x, args, step, opts);
        else assert.fail(`state ${name}: resource ${state.Resource} is not played here`);
        step.output =
          state.Output === undefined ? result : await evaluate(state.Output, { input: current, result });
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
        const errorOutput = { Error: err.errorName, Cause: err.errorCause };
        step.error = errorOutput;
        const caught = state.Catch?.find((c) => catches(c, err.errorName));
        if (!caught) return { status: 'FAILED', error: err.errorName, cause: err.errorCause, steps };
        current =
          caught.Output === undefined
            ? errorOutput
            : await evaluate(caught.Output, { input: current, errorOutput });
        name = caught.Next;
        continue;
      }
      current = step.output;
      if (state.End) return { status: 'SUCCEEDED', output: current, steps };
      assert.ok(state.Next, `state ${name} neither ends nor goes on`);
      name = state.Next;
    }
    assert.fail('the execution did not end within 100 states');
  } finally {
    clients.lambda.destroy();
    clients.batch.destroy();
    clients.s3.destroy();
  }
}
