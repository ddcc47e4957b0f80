// The helper's functions bound to one environment: the guard, and submitting through the lazy AWS half (submit.ts)
// the request that request.ts builds.
import { ConfigError, type Env } from '../../lib/env.js';
import type { BatchJobAnswer, BatchJobRequest } from '../../lib/request.js';
import { readHelperConfig } from './config.js';
import { type BatchJobOptions, buildRequest } from './request.js';
import type { Submitter } from './submit.js';

/** The part of a Lambda `context` the helper needs. */
export interface InvokedContext {
  invokedFunctionArn: string;
  awsRequestId?: string;
}

/** The helper's functions, bound to one environment (see `createBatchHelper`). */
export interface BatchHelper {
  submitBatchJob(payload: unknown, functionArn: string, options?: BatchJobOptions): Promise<BatchJobAnswer>;
  submitBatchJobs(
    payloads: unknown[],
    functionArn: string,
    options?: BatchJobOptions,
  ): Promise<BatchJobAnswer>;
  runAsBatchJob(
    event: unknown,
    context: InvokedContext,
    options?: BatchJobOptions,
  ): Promise<BatchJobAnswer | undefined>;
  isBatchJob(): boolean;
}

/**
 * The helper reading its configuration from `env` (the exported functions use `process.env`).
 *
 * @example
 * ```ts
 * const helper = createBatchHelper({ ...process.env, BATCH_DISPATCHER_FUNCTION: 'other-dispatcher' });
 * const job = await helper.submitBatchJob({ id: 42 }, 'arn:aws:lambda:us-east-1:123456789012:function:f');
 * ```
 */
export function createBatchHelper(env: Env): BatchHelper {
  let submitter: Promise<Submitter> | undefined;
  const isBatchJob = () => {
    const c = readHelperConfig(env);
    return c.batchJobId !== undefined || c.runLambdaJob;
  };

  async function submit(request: BatchJobRequest, options: BatchJobOptions) {
    const config = readHelperConfig(env);
    const dispatcher = options.dispatcher ?? config.dispatcher;
    if (!dispatcher)
      throw new ConfigError('BATCH_DISPATCHER_FUNCTION is required (or pass options.dispatcher)');
    // Loaded on first use: a feeder running inline inside Batch never pays for the AWS SDK.
    submitter ??= import('./submit.js').then((m) => new m.Submitter(env));
    return (await submitter).submit(request, dispatcher, config);
  }

  // Async, so a request that cannot be built (a payload JSON cannot carry) is a rejection, never a throw.
  const submitBatchJob = async (payload: unknown, functionArn: string, options: BatchJobOptions = {}) =>
    submit(buildRequest({ payload }, functionArn, options), options);

  const submitBatchJobs = async (payloads: unknown[], functionArn: string, options: BatchJobOptions = {}) =>
    submit(buildRequest({ payloads }, functionArn, options), options);

  async function runAsBatchJob(event: unknown, context: InvokedContext, options: BatchJobOptions = {}) {
    if (isBatchJob()) return undefined;
    const withContext =
      options.context || !context.awsRequestId
        ? options
        : { ...options, context: { awsRequestId: context.awsRequestId } };
    return submitBatchJob(event, context.invokedFunctionArn, withContext);
  }

  return { submitBatchJob, submitBatchJobs, runAsBatchJob, isBatchJob };
}
