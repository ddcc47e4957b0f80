// The helper's logic bound to one environment: the guard, the request it builds, and the lazy AWS half.
import { ConfigError, type Env } from '../../lib/env.js';
import {
  type BatchJobAnswer,
  type BatchJobRequest,
  JobOptionFields,
  type JobOptions,
} from '../../lib/request.js';
import { readHelperConfig } from './config.js';
import type { Submitter } from './submit.js';

/**
 * How the job should run, and which dispatcher to ask. Every field is optional; the dispatcher's
 * configuration supplies the defaults.
 *
 * @example
 * ```ts
 * const options: BatchJobOptions = { queue: 'big-jobs', image: 'geolambda', vcpus: 4, memory: 16384 };
 * ```
 */
export interface BatchJobOptions extends JobOptions {
  /** Dispatcher function name or ARN; default `BATCH_DISPATCHER_FUNCTION`. */
  dispatcher?: string;
}

/** The part of a Lambda `context` the helper needs. */
export interface InvokedContext {
  invokedFunctionArn: string;
}

/** The helper's three functions, bound to one environment (see `createBatchHelper`). */
export interface BatchHelper {
  submitBatchJob(payload: unknown, functionArn: string, options?: BatchJobOptions): Promise<BatchJobAnswer>;
  runAsBatchJob(
    event: unknown,
    context: InvokedContext,
    options?: BatchJobOptions,
  ): Promise<BatchJobAnswer | undefined>;
  isBatchJob(): boolean;
}

/** The dispatcher request for `payload`: only the job fields the caller set. */
export function buildRequest(
  payload: unknown,
  functionArn: string,
  options: BatchJobOptions = {},
): BatchJobRequest {
  const request: Record<string, unknown> = { lambda_function: functionArn, payload };
  for (const k of JobOptionFields) if (options[k] !== undefined) request[k] = options[k];
  return request as unknown as BatchJobRequest;
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
  const isBatchJob = () => readHelperConfig(env).batchJobId !== undefined;

  async function submitBatchJob(payload: unknown, functionArn: string, options: BatchJobOptions = {}) {
    const config = readHelperConfig(env);
    const dispatcher = options.dispatcher ?? config.dispatcher;
    if (!dispatcher)
      throw new ConfigError('BATCH_DISPATCHER_FUNCTION is required (or pass options.dispatcher)');
    // Loaded on first use: a feeder running inline inside Batch never pays for the AWS SDK.
    submitter ??= import('./submit.js').then((m) => new m.Submitter(env));
    return (await submitter).submit(buildRequest(payload, functionArn, options), dispatcher, config);
  }

  async function runAsBatchJob(event: unknown, context: InvokedContext, options?: BatchJobOptions) {
    if (isBatchJob()) return undefined;
    return submitBatchJob(event, context.invokedFunctionArn, options);
  }

  return { submitBatchJob, runAsBatchJob, isBatchJob };
}
