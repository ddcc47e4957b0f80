// post-batch's configuration, read once per container from the environment through lib/env.ts.
import { type NetworkTimeouts, networkTimeoutsFromEnv } from '../../lib/aws-config.js';
import { ConfigError, type Env, envInt, envList, envString } from '../../lib/env.js';
import { type AllowedOutputs, allowedOutputs } from './outputs.js';

export interface PostBatchConfig {
  /** Results whose JSON is longer (in characters) come back as `{url}`; 0 always answers with the pointer. */
  maxInlineResult: number;
  logLevel: string | undefined;
  /** How long its SDK calls may take to connect and may stay silent (NETWORK_TIMEOUT, default 10 s of silence). */
  networkTimeouts: NetworkTimeouts;
  /**
   * Where a job's url_out may point: PAYLOAD_BUCKET under PAYLOAD_PREFIX (default `batch/`), and the buckets of
   * OUTPUT_BUCKET_ARNS; undefined when neither is set (any url_out is read, as far as the role allows).
   */
  outputs: AllowedOutputs | undefined;
}

/** Cirrus v2's limit for a payload handed between states inline. */
export const DEFAULT_MAX_INLINE_RESULT = 120_000;
/** Step Functions caps a state's input and output at 256 KiB. */
export const MAX_INLINE_RESULT_CAP = 262_144;

export function readConfig(env: Env): PostBatchConfig {
  const maxInlineResult = envInt(env, 'MAX_INLINE_RESULT', DEFAULT_MAX_INLINE_RESULT);
  if (maxInlineResult > MAX_INLINE_RESULT_CAP)
    throw new ConfigError(
      `MAX_INLINE_RESULT must be at most ${MAX_INLINE_RESULT_CAP} (Step Functions carries at most 256 KiB between states), got ${maxInlineResult}`,
    );
  return {
    maxInlineResult,
    logLevel: envString(env, 'LOG_LEVEL'),
    networkTimeouts: networkTimeoutsFromEnv(env),
    outputs: allowedOutputs(
      envString(env, 'PAYLOAD_BUCKET'),
      envString(env, 'PAYLOAD_PREFIX', 'batch/'),
      envList(env, 'OUTPUT_BUCKET_ARNS'),
    ),
  };
}
