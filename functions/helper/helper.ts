// The helper's logic bound to one environment: the guard, the request it builds (with its idempotency key), the lazy AWS half.
import { createHash } from 'node:crypto';
import { ConfigError, type Env } from '../../lib/env.js';
import { InvalidRequestError } from '../../lib/errors.js';
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
 * const options: BatchJobOptions = { queue: 'big-jobs', image: 'geolambda', vcpus: 4, memory: 16384, context };
 * ```
 */
export interface BatchJobOptions extends JobOptions {
  /** Dispatcher function name or ARN; default `BATCH_DISPATCHER_FUNCTION`. */
  dispatcher?: string;
  /** The dispatcher's `idempotency_key`; default derived from `context`'s request id and the request. */
  idempotencyKey?: string;
  /**
   * The calling Lambda's context: a retried invocation keeps its request id, so the key derived from it makes
   * the retry's submission answer with the first job instead of making a second.
   */
  context?: { awsRequestId: string };
}

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
 * `JSON.stringify(value)`, or InvalidRequestError naming `payload` when it cannot be (a cycle, a BigInt): the
 * serializer's own message names the payload's property names, which a caller's error log line must not carry.
 */
export function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    const what = (err as Error).message.split(/[\n'"`]/)[0]!.trim();
    throw new InvalidRequestError(`payload: cannot be sent as JSON (${what})`);
  }
}

/**
 * The key of one submission: the caller's request id (kept by Lambda's retries of the invocation) and a
 * digest of the request, so one invocation's different submissions get different keys and a repeat the same.
 */
export function deriveIdempotencyKey(requestId: string, request: object): string {
  const digest = createHash('sha256').update(jsonOf(request)).digest('hex').slice(0, 16);
  return `${requestId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100)}-${digest}`;
}

/** The dispatcher request: the payload(s), only the job fields the caller set, and the idempotency key. */
export function buildRequest(
  body: { payload: unknown } | { payloads: unknown[] },
  functionArn: string,
  options: BatchJobOptions = {},
): BatchJobRequest {
  const request: Record<string, unknown> = { lambda_function: functionArn, ...body };
  for (const k of JobOptionFields) if (options[k] !== undefined) request[k] = options[k];
  const key =
    options.idempotencyKey ??
    (options.context?.awsRequestId ? deriveIdempotencyKey(options.context.awsRequestId, request) : undefined);
  if (key !== undefined) request.idempotency_key = key;
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
