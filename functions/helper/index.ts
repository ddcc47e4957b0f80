// cirrus-batch: lets a Lambda function (a Cirrus feeder, say) re-submit itself as an AWS Batch job via the dispatcher.
import type { BatchJobAnswer } from '../../lib/request.js';
import { createBatchHelper, type InvokedContext } from './helper.js';
import type { BatchJobOptions } from './request.js';

export type { Env } from '../../lib/env.js';
export { ConfigError } from '../../lib/env.js';
export {
  DispatchError,
  FunctionNotAllowedError,
  FunctionNotFoundError,
  IdempotencyInProgressError,
  InvalidRequestError,
  PayloadStoreError,
  SubmitJobError,
  UnsupportedRuntimeError,
} from '../../lib/errors.js';
export type { BatchJobAnswer, ImageName, JobOptions } from '../../lib/request.js';
export { MAX_INVOKE_BYTES } from './config.js';
export { PayloadTooLargeError } from './errors.js';
export type { BatchHelper, InvokedContext } from './helper.js';
export { createBatchHelper } from './helper.js';
export type { BatchJobOptions } from './request.js';
export { deriveIdempotencyKey } from './request.js';

// The one place the helper reads the process environment; it is read again on every call.
const helper = createBatchHelper(process.env);

/**
 * Asks the dispatcher (`options.dispatcher`, else `BATCH_DISPATCHER_FUNCTION`) to run `functionArn` on
 * `payload` as a Batch job, with a synchronous Invoke, and returns its answer. A request too large for
 * Lambda's 6 MB invoke limit is first written to `PAYLOAD_BUCKET` and passed as `url`. A dispatcher
 * error is thrown as an `Error` whose `name` is the dispatcher's `errorType` (e.g. `InvalidRequestError`).
 * Pass `context` (or `idempotencyKey`) so that a retried invocation gets the same job instead of a second one;
 * the Invoke itself is never retried by the SDK.
 *
 * @example
 * ```ts
 * import { submitBatchJob } from 'cirrus-batch';
 * export const handler = async (event, context) => {
 *   const job = await submitBatchJob(event, 'arn:aws:lambda:us-east-1:123456789012:function:my-task', {
 *     memory: 8192,
 *     context,
 *   });
 *   console.log(job.job_id, job.url_out);
 * };
 * ```
 */
export function submitBatchJob(
  payload: unknown,
  functionArn: string,
  options?: BatchJobOptions,
): Promise<BatchJobAnswer> {
  return helper.submitBatchJob(payload, functionArn, options);
}

/**
 * Runs `functionArn` once per event of `payloads` (1 to 10,000) as ONE Batch array job: the dispatcher stores
 * them as an item set and submits `ceil(n / items_per_job)` children, each running its items one after another
 * in one warm runtime. Item `i`'s result lands at `<url_out><i>.json`. Over Lambda's invoke limit the items
 * are written to `PAYLOAD_BUCKET` by the helper and sent as `url` + `item_count`.
 *
 * @example
 * ```ts
 * import { submitBatchJobs } from 'cirrus-batch';
 * export const handler = async (event, context) => {
 *   const items = event.features.map((feature) => ({ type: 'FeatureCollection', features: [feature] }));
 *   const job = await submitBatchJobs(items, 'arn:aws:lambda:us-east-1:123456789012:function:my-task', {
 *     items_per_job: 100,
 *     context,
 *   });
 *   return { job_id: job.job_id, children: job.array_size, results: job.url_out };
 * };
 * ```
 */
export function submitBatchJobs(
  payloads: unknown[],
  functionArn: string,
  options?: BatchJobOptions,
): Promise<BatchJobAnswer> {
  return helper.submitBatchJobs(payloads, functionArn, options);
}

/**
 * The guard for a function that should run in Batch: inside a Batch job (`AWS_BATCH_JOB_ID` set) it
 * returns `undefined` and the caller carries on inline; in Lambda it submits `context.invokedFunctionArn`
 * with `event` as the payload and returns the job (keyed by `context.awsRequestId`, so a retried invocation
 * gets the same job). Without the guard a feeder would re-submit itself forever.
 *
 * @example
 * ```ts
 * import { runAsBatchJob } from 'cirrus-batch';
 * export const handler = async (event, context) => {
 *   const job = await runAsBatchJob(event, context, { vcpus: 4, memory: 16384 });
 *   if (job) return job; // submitted; Batch runs this same handler again, inline
 *   return doTheHeavyWork(event);
 * };
 * ```
 */
export function runAsBatchJob(
  event: unknown,
  context: InvokedContext,
  options?: BatchJobOptions,
): Promise<BatchJobAnswer | undefined> {
  return helper.runAsBatchJob(event, context, options);
}

/**
 * True inside any job the runner runs (it sets `RUN_LAMBDA_JOB=1` for the function: Batch, Kubernetes, a
 * laptop), and inside an AWS Batch job (`AWS_BATCH_JOB_ID`).
 *
 * @example
 * ```ts
 * import { isBatchJob } from 'cirrus-batch';
 * const limit = isBatchJob() ? Number.POSITIVE_INFINITY : 1000;
 * ```
 */
export function isBatchJob(): boolean {
  return helper.isBatchJob();
}
