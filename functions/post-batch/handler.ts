// post-batch's middy handler: what a finished Batch job left (its run record) → the next state's input, or its error.
import { type BatchClient, DescribeJobsCommand } from '@aws-sdk/client-batch';
import type { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { isItemSetUrl } from '../../lib/item-set.js';
import { JobParameter } from '../../lib/job-plan.js';
import { readJobParameters } from '../../lib/job-wire.js';
import { createJsonLogger, type JsonLogger } from '../../lib/logger.js';
import type { PostBatchConfig } from './config.js';
import {
  InvalidJobError,
  JobNotFinishedError,
  JobNotFoundError,
  PostBatchError,
  ReadError,
} from './errors.js';
import { parseEvent } from './event.js';
import { type ItemsSummary, itemsOutcome } from './items.js';
import { isTerminal, type JobView, jobView } from './job.js';
import { type OutcomeOptions, type Pointer, singleOutcome } from './outcome.js';
import { checkOutput } from './outputs.js';
import { location, type OutputReader, s3Reader } from './reader.js';

export interface HandlerOptions {
  s3: S3Client;
  batch: BatchClient;
  config: PostBatchConfig;
  logger?: JsonLogger;
  /** default: reads through `s3` */
  reader?: OutputReader;
}

export type PostBatchHandler = (
  event: unknown,
  context: Context,
) => Promise<unknown | Pointer | ItemsSummary>;

/** The job `jobId` from DescribeJobs; it must have ended. */
export async function describeJob(batch: BatchClient, jobId: string): Promise<JobView> {
  let jobs: unknown[] | undefined;
  try {
    ({ jobs } = await batch.send(new DescribeJobsCommand({ jobs: [jobId] })));
  } catch (err) {
    throw new ReadError(`DescribeJobs ${jobId} failed: ${(err as Error).name}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const job = jobView(jobs?.[0]);
  if (!job)
    throw new JobNotFoundError(`Batch has no job ${jobId} (jobs are kept for about 7 days after they end)`);
  if (!isTerminal(job))
    throw new JobNotFinishedError(`job ${jobId} has not ended: it is ${job.status ?? 'in no known state'}`);
  return job;
}

/** The job's output URL, checked: a dispatcher's job names one, an s3:// URL in a place this post-batch reads. */
function outputOf(job: JobView, outputs: PostBatchConfig['outputs']): string {
  const urlOut = readJobParameters(job.parameters).output;
  if (urlOut === undefined)
    throw new InvalidJobError(
      `job ${job.jobId} has no ${JobParameter.output} parameter: it was not submitted by the dispatcher`,
    );
  location(urlOut, JobParameter.output);
  checkOutput(job.jobId, urlOut, outputs);
  return urlOut;
}

/** How the job ended, as the next state takes it: an item set's summary, or the result (inline or a pointer). */
async function outcomeOf(job: JobView, urlOut: string, options: OutcomeOptions): Promise<unknown> {
  const keys = { job_id: job.jobId, job_status: job.status, url_out: urlOut };
  const log = options.log;
  if (isItemSetUrl(urlOut)) {
    const summary = await itemsOutcome(job, urlOut, { ...options, log: log.child(keys) });
    const { item_count, succeeded, failed, missing, error_types } = summary;
    log.info('item set', { ...keys, item_count, succeeded, failed, missing, error_types });
    return summary;
  }
  const out = await singleOutcome(job, urlOut, { ...options, log: log.child(keys) });
  log.info(out.kind === 'pointer' ? 'result passed as a pointer' : 'result passed inline', {
    ...keys,
    result_chars: out.kind === 'result' ? out.chars : undefined,
  });
  return out.value;
}

/**
 * post-batch's own fault is an ERROR line; the function's own failure is an outcome, whose message stays out of
 * INFO lines (it is at debug).
 */
function logFailure(log: JsonLogger, job: JobView | undefined, e: Error): void {
  if (e instanceof PostBatchError || e.name === 'InvalidRunRecordError' || e.name === 'ConfigError')
    log.error('post-batch failed', { job_id: job?.jobId, error: e });
  else {
    log.info('job failed', { job_id: job?.jobId, job_status: job?.status, error_type: e.name });
    log.debug('job error', { job_id: job?.jobId, error: e });
  }
}

/** Builds the handler from clients and config (tests pass their own; index.ts passes the container's). */
export function createHandler(options: HandlerOptions) {
  const logger =
    options.logger ?? createJsonLogger({ service: 'post-batch', level: options.config.logLevel });
  const reader = options.reader ?? s3Reader(options.s3);
  const { maxInlineResult, outputs } = options.config;

  const base = async (event: unknown, context: Context): Promise<unknown> => {
    const log = logger.child({ function_request_id: context?.awsRequestId });
    let job: JobView | undefined;
    try {
      const input = parseEvent(event);
      if (input.kind === 'error') {
        log.info('caught error passed on', { error_type: input.error.name });
        throw input.error;
      }
      job = input.kind === 'job' ? input.job : await describeJob(options.batch, input.jobId);
      return await outcomeOf(job, outputOf(job, outputs), { reader, maxInlineResult, log });
    } catch (err) {
      logFailure(log, job, err as Error);
      throw err;
    }
  };

  return middy(base).before((request) => {
    logger.debug('event received', {
      function_request_id: request.context?.awsRequestId,
      payload: request.event,
    });
  });
}
