// Shared moto world for post-batch's integration tests: a bucket, a queue and definition, jobs on moto's Batch,
// run records and results on moto's S3, and the shapes Step Functions hands post-batch, built from DescribeJobs.
import assert from 'node:assert/strict';
import {
  DescribeJobsCommand,
  type JobDetail,
  SubmitJobCommand,
  TerminateJobCommand,
} from '@aws-sdk/client-batch';
import type { Context } from 'aws-lambda';
import { readConfig } from '../../functions/post-batch/config.js';
import { createHandler } from '../../functions/post-batch/handler.js';
import type { Env } from '../../lib/env.js';
import { createJsonLogger } from '../../lib/logger.js';
import type { RunRecord } from '../../lib/run-record.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { createBatchEnvironment, registerJobDefinition } from './harness/batch-fixtures.js';
import { createBucket, putObject } from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';

/** The post-batch bundle `npm run build` makes: what template.yaml deploys (CodeUri: dist/post-batch). */
export const POST_BATCH_BUNDLE = new URL('../../dist/post-batch/index.mjs', import.meta.url).pathname;

export const BUCKET = 'pb-data';
export const CONTEXT = { awsRequestId: 'req-pb' } as Context;

export interface SubmitSpec {
  url_out: string;
  /** RUN_LAMBDA_ITEM_COUNT (and an array of ceil(n / 2) children when more than 2) */
  items?: number;
  name?: string;
  parameters?: Record<string, string>;
}

export interface World {
  h: Harness;
  logLines: Record<string, unknown>[];
  handlerWith(env?: Env): ReturnType<typeof createHandler>;
  invoke(event: unknown, env?: Env): Promise<unknown>;
  /** SubmitJob on moto as the dispatcher would (parameters, item-set overrides); returns DescribeJobs' answer */
  submit(spec: SubmitSpec): Promise<JobDetail>;
  /** TerminateJob on moto: sets the job's statusReason (moto keeps the reason of a job that already ended) */
  terminate(jobId: string, reason: string): Promise<JobDetail>;
  describe(jobId: string): Promise<JobDetail>;
  put(url: string, body: unknown): Promise<void>;
  putRecord(url: string, record: RunRecord): Promise<void>;
}

/**
 * Starts the harness. With `failJobs`, moto's Batch (which runs no container) marks every job FAILED instead of
 * SUCCEEDED (its MOTO_SIMPLE_BATCH_FAIL_AFTER=0), so FAILED jobs and their status reasons come from moto itself.
 */
export async function startWorld({ failJobs = false } = {}): Promise<World> {
  if (failJobs) process.env.MOTO_SIMPLE_BATCH_FAIL_AFTER = '0';
  let h: Harness;
  try {
    h = await startHarness();
  } finally {
    delete process.env.MOTO_SIMPLE_BATCH_FAIL_AFTER;
  }
  await createBucket(h, BUCKET);
  await createBatchEnvironment(h, 'pb');
  await registerJobDefinition(h, { name: 'pb-lambda' });
  const logLines: Record<string, unknown>[] = [];
  const describe = async (jobId: string) => {
    const out = await h.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
    assert.equal(out.jobs?.length, 1, `moto has no job ${jobId}`);
    return out.jobs![0]!;
  };
  const handlerWith = (env: Env = {}) => {
    const config = readConfig({ LOG_LEVEL: 'debug', ...env });
    const logger = createJsonLogger({
      service: 'post-batch',
      level: config.logLevel,
      write: (l) => logLines.push(JSON.parse(l)),
    });
    // Clients through the front, so every request post-batch makes is recorded.
    return createHandler({ s3: h.frontClients.s3, batch: h.frontClients.batch, config, logger });
  };
  const put = async (url: string, body: unknown) => {
    const { bucket, key } = parseS3Url(url);
    await putObject(h, bucket, key, body);
  };
  return {
    h,
    logLines,
    handlerWith,
    invoke: (event, env) => handlerWith(env)(event, CONTEXT),
    async submit(spec) {
      const items = spec.items;
      const size = items === undefined ? 1 : Math.ceil(items / 2);
      const out = await h.clients.batch.send(
        new SubmitJobCommand({
          jobName: spec.name ?? 'my-task',
          jobQueue: 'pb-queue',
          jobDefinition: 'pb-lambda',
          parameters: {
            lambda_function: 'arn:aws:lambda:us-east-1:123456789012:function:my-task',
            url: `s3://${BUCKET}/batch/my-task/payload.json`,
            url_out: spec.url_out,
            ...spec.parameters,
          },
          ...(size > 1 ? { arrayProperties: { size } } : {}),
          ...(items === undefined
            ? {}
            : {
                containerOverrides: {
                  environment: [
                    { name: 'RUN_LAMBDA_ITEM_COUNT', value: String(items) },
                    { name: 'RUN_LAMBDA_ITEMS_PER_JOB', value: '2' },
                  ],
                },
              }),
        }),
      );
      return describe(out.jobId!);
    },
    async terminate(jobId, reason) {
      await h.clients.batch.send(new TerminateJobCommand({ jobId, reason }));
      return describe(jobId);
    },
    describe,
    put,
    putRecord: (url, record) => put(url, JSON.stringify(record)),
  };
}

/**
 * The job as Step Functions hands it on after batch:submitJob.sync: DescribeJobs' job with every object key
 * PascalCased (JobId, Status, Container.Environment[].Name…), the keys of the Parameters and Tags maps left as
 * they are (docs/step-functions.md, "What post-batch takes").
 */
export function asStepFunctionsOutput(job: JobDetail): Record<string, unknown> {
  const walk = (v: unknown, inMap: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, false));
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) =>
        inMap ? [k, x] : [k[0]!.toUpperCase() + k.slice(1), walk(x, k === 'parameters' || k === 'tags')],
      ),
    );
  };
  return walk(job, false) as Record<string, unknown>;
}

/** What a Catch with its output under `error` (Cirrus's ResultPath $.error) hands the next state for a failed job. */
export function caughtJobFailure(
  job: JobDetail,
  input: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...input,
    error: { Error: 'States.TaskFailed', Cause: JSON.stringify(asStepFunctionsOutput(job)) },
  };
}

/** Runs `fn`, expecting it to reject with an error named `name`; returns the error. */
export async function rejectsNamed(p: Promise<unknown>, name: string, message?: RegExp): Promise<Error> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof Error, `expected a rejection named ${name}`);
  assert.equal(caught.name, name, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}
