// Shared moto world for the dispatcher's integration tests: bucket, Batch queues and definitions, functions, a handler factory.
import assert from 'node:assert/strict';
import { DescribeJobsCommand, type JobDetail } from '@aws-sdk/client-batch';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Context, SQSRecord } from 'aws-lambda';
import { readConfig } from '../../functions/dispatcher/config.js';
import { createHandler } from '../../functions/dispatcher/handler.js';
import type { Env } from '../../lib/env.js';
import { createJsonLogger } from '../../lib/logger.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import { createBatchEnvironment, registerJobDefinition } from './harness/batch-fixtures.js';
import { ACCOUNT_ID, createBucket, createFunction, createLayer, REGION } from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';

export const BUCKET = 'dispatch-payloads';
export const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;
export const CONTEXT = { awsRequestId: 'req-1', invokedFunctionArn: fnArn('dispatcher') } as Context;

/** One record of an SQS event as the event source mapping hands it over, from the queue `queue` of this account. */
export function sqsRecord(
  messageId: string,
  receiptHandle: string,
  body: string,
  queue = 'dispatch',
): SQSRecord {
  return {
    messageId,
    receiptHandle,
    body,
    attributes: {} as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${queue}`,
    awsRegion: REGION,
  };
}

/** The env a deployed dispatcher would have in this world. */
export const DISPATCHER_ENV = {
  PAYLOAD_BUCKET: BUCKET,
  JOB_QUEUE: 'disp-queue',
  JOB_DEFINITION_LAMBDA: 'run-lambda',
  JOB_DEFINITION_GEOLAMBDA: 'run-geolambda',
  LOG_LEVEL: 'info',
} as const;

export interface World {
  h: Harness;
  queueArn: string;
  /** every log line the handlers made with `handlerWith` wrote, parsed */
  logLines: Record<string, unknown>[];
  handlerWith(env?: Env): ReturnType<typeof createHandler>;
  invoke(handler: ReturnType<typeof createHandler>, event: unknown): Promise<BatchJobAnswer>;
  describe(jobId: string): Promise<JobDetail>;
  keysUnder(prefix: string): Promise<string[]>;
}

/**
 * Functions: plain-task (a non-GDAL layer), geo-task (a lambgeo layer), tagged-task (`batch:image=geolambda`),
 * tagged-lambda (GDAL layer but `batch:image=lambda`). Queues disp-queue and stk-disp-queue; definitions
 * run-lambda, run-geolambda, stk-run-lambda.
 */
export async function startWorld(): Promise<World> {
  const h = await startHarness();
  await createBucket(h, BUCKET);
  const { jobQueueArn: queueArn } = await createBatchEnvironment(h, 'disp');
  await createBatchEnvironment(h, 'stk-disp');
  await registerJobDefinition(h, { name: 'run-lambda' });
  await registerJobDefinition(h, { name: 'run-geolambda', image: 'cirrusgeo/run-geolambda:latest' });
  await registerJobDefinition(h, { name: 'stk-run-lambda' });
  const gdal = await createLayer(h, 'lambgeo-gdal', { 'python/x.py': '' });
  const numpy = await createLayer(h, 'numpy', { 'python/y.py': '' });
  await createFunction(h, { name: 'plain-task', layers: [numpy] });
  await createFunction(h, { name: 'geo-task', layers: [numpy, gdal] });
  await createFunction(h, { name: 'tagged-task', tags: { 'batch:image': 'geolambda' } });
  await createFunction(h, { name: 'tagged-lambda', layers: [gdal], tags: { 'batch:image': 'lambda' } });

  const logLines: Record<string, unknown>[] = [];
  return {
    h,
    queueArn,
    logLines,
    handlerWith(env: Env = {}) {
      const config = readConfig({ ...DISPATCHER_ENV, ...env });
      const logger = createJsonLogger({
        service: 'dispatcher',
        level: config.logLevel,
        write: (l) => logLines.push(JSON.parse(l)),
      });
      // Clients through the front, so every request the handler makes is recorded.
      return createHandler({ ...h.frontClients, config, logger });
    },
    async invoke(handler, event) {
      return (await handler(event, CONTEXT)) as BatchJobAnswer;
    },
    async describe(jobId) {
      const out = await h.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
      assert.equal(out.jobs?.length, 1);
      return out.jobs![0]!;
    },
    async keysUnder(prefix) {
      const out = await h.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key!).sort();
    },
  };
}
