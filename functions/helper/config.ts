// The helper's configuration, read once from the function's environment (the only place that knows the names).
import { type Env, envString } from '../../lib/env.js';
import { RUN_LAMBDA_JOB } from '../../lib/job-plan.js';

/** Lambda refuses a synchronous request over 6 MiB (6,291,456 bytes); stay under it with room to spare. */
export const MAX_INVOKE_BYTES = 6_000_000;

/** Where payloads go when the dispatcher's defaults are not overridden (docs/dispatcher.md "Configuration": `PAYLOAD_PREFIX`). */
export const DEFAULT_PAYLOAD_PREFIX = 'batch/';

export interface HelperConfig {
  /** Dispatcher function name or ARN (`BATCH_DISPATCHER_FUNCTION`). */
  dispatcher?: string;
  /** Bucket for payloads too large to invoke with (`PAYLOAD_BUCKET`, else `CIRRUS_PAYLOAD_BUCKET`). */
  payloadBucket?: string;
  payloadPrefix: string;
  /** Set by AWS Batch in every job's container. */
  batchJobId?: string;
  /** `RUN_LAMBDA_JOB=1`: the runner runs this function (Batch, Kubernetes, a laptop). */
  runLambdaJob: boolean;
}

export function readHelperConfig(env: Env): HelperConfig {
  return {
    dispatcher: envString(env, 'BATCH_DISPATCHER_FUNCTION'),
    payloadBucket: envString(env, 'PAYLOAD_BUCKET') ?? envString(env, 'CIRRUS_PAYLOAD_BUCKET'),
    payloadPrefix: envString(env, 'PAYLOAD_PREFIX', DEFAULT_PAYLOAD_PREFIX),
    batchJobId: envString(env, 'AWS_BATCH_JOB_ID'),
    runLambdaJob: envString(env, RUN_LAMBDA_JOB) === '1',
  };
}
