// The dispatcher's configuration, read once per container from the environment through lib/env.ts.
import { ConfigError, type Env, envInt, envList, envRequired, envString } from '../../lib/env.js';
import type { ImageName } from '../../lib/request.js';

export interface DispatcherConfig {
  /** Bucket for payloads and inline payloads' results; only needed for requests that carry a `payload`. */
  payloadBucket: string | undefined;
  payloadPrefix: string;
  jobQueue: string | undefined;
  jobDefinitions: Record<ImageName, string>;
  geoLayerPattern: RegExp;
  /** Largest payload JSON (bytes) sent inline as a `data:` URL; 0 writes every payload to S3. */
  inlinePayloadLimit: number;
  /** ARN globs; empty means "the dispatcher's own account and region" (known only from the first context). */
  allowedFunctions: string[];
  logLevel: string | undefined;
  cirrusStack: string | undefined;
  /** How long a GetFunction answer is reused within a container. */
  functionCacheMs: number;
  /** How many SQS records are dispatched at the same time. */
  sqsConcurrency: number;
}

// Batch's SubmitJob request is capped at 30 KiB; a base64 data: URL is 4/3 of the JSON, plus the other fields.
export const MAX_INLINE_PAYLOAD_LIMIT = 16_384;

export const DEFAULT_GEO_LAYER_PATTERN = 'gdal|geolambda|lambgeo';

export function readConfig(env: Env): DispatcherConfig {
  const inlinePayloadLimit = envInt(env, 'INLINE_PAYLOAD_LIMIT', 8192);
  if (inlinePayloadLimit > MAX_INLINE_PAYLOAD_LIMIT)
    throw new ConfigError(
      `INLINE_PAYLOAD_LIMIT must be at most ${MAX_INLINE_PAYLOAD_LIMIT} (Batch caps a SubmitJob request at 30 KiB), got ${inlinePayloadLimit}`,
    );
  const pattern = envString(env, 'GEO_LAYER_PATTERN', DEFAULT_GEO_LAYER_PATTERN);
  let geoLayerPattern: RegExp;
  try {
    geoLayerPattern = new RegExp(pattern, 'i');
  } catch (err) {
    throw new ConfigError(`GEO_LAYER_PATTERN is not a regular expression: ${(err as Error).message}`);
  }
  const sqsConcurrency = envInt(env, 'SQS_CONCURRENCY', 5);
  const payloadPrefix = envString(env, 'PAYLOAD_PREFIX', 'batch/');
  // The prefix is also the IAM resource pattern of every S3 permission; a `*` in it would widen them.
  if (payloadPrefix.includes('*'))
    throw new ConfigError(`PAYLOAD_PREFIX must not contain *, got ${JSON.stringify(payloadPrefix)}`);
  return {
    payloadBucket: envString(env, 'PAYLOAD_BUCKET') ?? envString(env, 'CIRRUS_PAYLOAD_BUCKET'),
    payloadPrefix,
    jobQueue: envString(env, 'JOB_QUEUE'),
    jobDefinitions: {
      lambda: envRequired(env, 'JOB_DEFINITION_LAMBDA'),
      geolambda: envRequired(env, 'JOB_DEFINITION_GEOLAMBDA'),
    },
    geoLayerPattern,
    inlinePayloadLimit,
    allowedFunctions: envList(env, 'ALLOWED_FUNCTIONS'),
    logLevel: envString(env, 'LOG_LEVEL'),
    cirrusStack: envString(env, 'CIRRUS_STACK'),
    functionCacheMs: envInt(env, 'FUNCTION_CACHE_SECONDS', 300) * 1000,
    sqsConcurrency: Math.max(1, sqsConcurrency),
  };
}
