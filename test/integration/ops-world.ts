// The moto world lambda-batch's tests ask about: a payload bucket, a queue on Fargate and Fargate Spot compute
// environments, the run-lambda job definition (its logs in a group of its own), a Python task whose events say how
// each item ends, the dispatcher answering Lambda Invoke in this process (as deployed, through the front), the
// harness's executor running the jobs it submits, and the built CLI run as a child process against the front.
// Gap filled here: the compute environments need a subnet and a security group, which moto's EC2 has (its default
// VPC) but no SDK client of this project can ask for: they are read with one EC2 Query call each (moto checks no
// signature).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  RegisterJobDefinitionCommand,
} from '@aws-sdk/client-batch';
import type { Context } from 'aws-lambda';
import { readConfig } from '../../functions/dispatcher/config.js';
import { createHandler } from '../../functions/dispatcher/handler.js';
import { createJsonLogger } from '../../lib/logger.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import { type ArrayChildResult, executeArrayJob } from './harness/batch-array.js';
import { type ExecuteJobOptions, executeJob, type JobResult } from './harness/batch-exec.js';
import { TEMPLATE_COMMAND } from './harness/batch-fixtures.js';
import { createBucket, createFunction, createRole } from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';

export const BUCKET = 'ops-payloads';
export const DISPATCHER = 'ops-dispatcher';
export const DEFINITION = 'ops-run-lambda';
/** The definition's log group (its awslogs-group), where the executor puts its containers' output. */
export const LOG_GROUP = '/ops/run-lambda';
export const TASK = 'ops-task';
const CLI = new URL('../../dist/lambda-batch.mjs', import.meta.url).pathname;

/**
 * Each event says how its item ends: `fail` raises that error (KeyError, ValueError) unless the file `fixed` exists;
 * `sleep` seconds pass first; every item prints a line to stdout and one to stderr (the job's log).
 */
export const TASK_CODE = `import os, sys, time

def lambda_handler(event, context):
    print("item %s starts" % event.get("n"), flush=True)
    print("item %s on stderr" % event.get("n"), file=sys.stderr, flush=True)
    time.sleep(event.get("sleep", 0))
    fail = event.get("fail")
    if fail and not os.path.exists(event.get("fixed", "/nonexistent")):
        raise {"KeyError": KeyError, "ValueError": ValueError}[fail]("band %s" % event.get("n"))
    return {"n": event.get("n")}
`;

export interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
  /** the last line on stderr */
  last: string;
  /** when each piece of stdout came (ms since epoch) */
  chunks: { at: number; text: string }[];
}

export interface OpsWorld {
  h: Harness;
  dir: string;
  queueArn: string;
  dispatch(event: Record<string, unknown>): Promise<BatchJobAnswer>;
  run(jobId: string, opts?: ExecuteJobOptions): Promise<JobResult>;
  runArray(jobId: string, only?: number[]): Promise<ArrayChildResult[]>;
  /** the built lambda-batch against the front, with BATCH_DISPATCHER_FUNCTION set */
  cli(args: string[], env?: Record<string, string>): Promise<Cli>;
  stop(): Promise<void>;
}

/** One EC2 Query action's ids of one kind (`groupId`, `subnetId`) from moto. */
async function ec2Ids(h: Harness, action: string, tag: string): Promise<string[]> {
  const res = await fetch(h.motoEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: `Action=${action}&Version=2016-11-15`,
  });
  return [...(await res.text()).matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g'))].map((m) => m[1]!);
}

/** A queue over a Fargate Spot and a Fargate compute environment, in that order; its ARN. */
async function fargateQueue(h: Harness): Promise<string> {
  const serviceRole = await createRole(h, 'ops-batch-service', 'batch.amazonaws.com');
  const computeResources = {
    maxvCpus: 16,
    subnets: (await ec2Ids(h, 'DescribeSubnets', 'subnetId')).slice(0, 1),
    securityGroupIds: (await ec2Ids(h, 'DescribeSecurityGroups', 'groupId')).slice(0, 1),
  };
  const arns: string[] = [];
  for (const type of ['FARGATE_SPOT', 'FARGATE'] as const) {
    const ce = await h.clients.batch.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: `ops-${type.toLowerCase().replace('_', '-')}`,
        type: 'MANAGED',
        state: 'ENABLED',
        serviceRole,
        computeResources: { type, ...computeResources },
      }),
    );
    arns.push(ce.computeEnvironmentArn!);
  }
  const q = await h.clients.batch.send(
    new CreateJobQueueCommand({
      jobQueueName: 'ops-queue',
      priority: 1,
      state: 'ENABLED',
      computeEnvironmentOrder: arns.map((computeEnvironment, i) => ({ order: i + 1, computeEnvironment })),
    }),
  );
  return q.jobQueueArn!;
}

async function registerDefinition(h: Harness): Promise<void> {
  await h.clients.batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: DEFINITION,
      type: 'container',
      containerProperties: {
        image: 'cirrusgeo/run-lambda:latest',
        command: TEMPLATE_COMMAND,
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '2048' },
        ],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP } },
      },
    }),
  );
}

/** Serves the dispatcher's Invoke from its handler in this process, with the world's settings. */
function serveDispatcher(h: Harness): (event: Record<string, unknown>) => Promise<BatchJobAnswer> {
  const config = readConfig({
    PAYLOAD_BUCKET: BUCKET,
    JOB_QUEUE: 'ops-queue',
    JOB_DEFINITION_LAMBDA: DEFINITION,
    JOB_DEFINITION_GEOLAMBDA: DEFINITION,
    LOG_LEVEL: 'error',
  });
  const handler = createHandler({
    ...h.frontClients,
    config,
    logger: createJsonLogger({ service: 'dispatcher', level: 'error', write: () => {} }),
  });
  h.front.serveInvoke(DISPATCHER, (event, ctx) => handler(event, ctx as unknown as Context));
  const context = {
    awsRequestId: 'ops-test',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${DISPATCHER}`,
  } as Context;
  return async (event) => (await handler(event, context)) as BatchJobAnswer;
}

/** Runs the built CLI as a child process (the front keeps answering in this one). */
function runCli(h: Harness, args: string[], env: Record<string, string>): Promise<Cli> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...h.env,
        BATCH_DISPATCHER_FUNCTION: DISPATCHER,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const chunks: Cli['chunks'] = [];
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      chunks.push({ at: Date.now(), text: d.toString() });
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, last: stderr.trim().split('\n').at(-1) ?? '', chunks }),
    );
  });
}

export async function startOpsWorld(): Promise<OpsWorld> {
  const h = await startHarness();
  const dir = await mkdtemp(join(tmpdir(), 'ops-'));
  await createBucket(h, BUCKET);
  const queueArn = await fargateQueue(h);
  await registerDefinition(h);
  await createFunction(h, { name: TASK, files: { 'lambda_function.py': TASK_CODE } });
  // The dispatcher as deployed: its settings in moto's Lambda (lambda-batch list reads them), its Invoke served here.
  await createFunction(h, { name: DISPATCHER, env: { PAYLOAD_BUCKET: BUCKET, PAYLOAD_PREFIX: 'batch/' } });
  const dispatch = serveDispatcher(h);
  let runs = 0;
  const own = (): ExecuteJobOptions => {
    runs += 1;
    return {
      processEnv: { RUN_LAMBDA_CACHE_DIR: join(dir, 'cache'), RUN_LAMBDA_OPT_DIR: join(dir, `opt-${runs}`) },
    };
  };
  return {
    h,
    dir,
    queueArn,
    dispatch,
    run: (jobId, opts = {}) => executeJob(h, jobId, { ...own(), ...opts }),
    runArray: (jobId, only) =>
      executeArrayJob(h, jobId, { parallel: 2, ...(only ? { only } : {}), child: () => own() }),
    cli: (args, env = {}) => runCli(h, args, env),
    async stop() {
      await h.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
