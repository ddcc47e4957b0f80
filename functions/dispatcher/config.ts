// The dispatcher's configuration, read once per container from the environment through lib/env.ts.
import { ConfigError, type Env, envInt, envList, envString } from '../../lib/env.js';
import { type ImageName, Images } from '../../lib/job-plan.js';

export interface DispatcherConfig {
  /** Bucket for payloads, item sets and idempotency records; only needed for requests that use them. */
  payloadBucket: string | undefined;
  payloadPrefix: string;
  jobQueue: string | undefined;
  /** Job definition (name or ARN) per image, keyed `<flavour>:<runtime>` (e.g. `lambda:python3.13`). */
  jobDefinitions: Record<string, string>;
  geoLayerPattern: RegExp;
  /** Largest payload JSON (bytes) sent inline as a `data:` URL; 0 writes every payload to S3. */
  inlinePayloadLimit: number;
  /** ARN globs; empty means "the dispatcher's own account and region" (known only from the first context). */
  allowedFunctions: string[];
  logLevel: string | undefined;
  cirrusStack: string | undefined;
  /** How long a function lookup is reused within a container. */
  functionCacheMs: number;
  /** How many SQS records are dispatched at the same time. */
  sqsConcurrency: number;
  /** SubmitJob calls per second this container makes at most (Batch allows 50 per account and region). */
  submitRate: number;
}

// Batch's SubmitJob request is capped at 30 KiB; a base64 data: URL is 4/3 of the JSON, plus the other fields.
export const MAX_INLINE_PAYLOAD_LIMIT = 16_384;

export const DEFAULT_GEO_LAYER_PATTERN = 'gdal|geolambda|lambgeo';

/** The runtime the two single-definition variables stand for (the images' default, DESIGN.md "The images"). */
export const DEFAULT_RUNTIME = 'python3.12';

/** Batch's own limit on SubmitJob calls per second per account and region. */
export const BATCH_SUBMIT_LIMIT = 50;

const IMAGE_KEY = /^([a-z]+):([a-z0-9][a-z0-9.]*)$/;
const DEFINITION =
  /^([A-Za-z0-9][A-Za-z0-9_-]{0,127}(:\d+)?|arn:aws[a-zA-Z-]*:batch:[a-z0-9-]+:\d{12}:job-definition\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}(:\d+)?)$/;

/** `JOB_DEFINITIONS` (a JSON object `"<flavour>:<runtime>": "<name or ARN>"`) merged with the two python3.12 variables. */
export function readJobDefinitions(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = envString(env, 'JOB_DEFINITIONS');
  if (raw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new ConfigError(`JOB_DEFINITIONS is not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new ConfigError(
        'JOB_DEFINITIONS must be a JSON object from "<flavour>:<runtime>" to a job definition',
      );
    for (const [key, value] of Object.entries(parsed)) {
      const m = IMAGE_KEY.exec(key);
      if (!m || !(Images as readonly string[]).includes(m[1]!))
        throw new ConfigError(
          `JOB_DEFINITIONS key ${JSON.stringify(key)} is not "<flavour>:<runtime>" with a flavour of ${Images.join(', ')}`,
        );
      if (typeof value !== 'string' || !DEFINITION.test(value))
        throw new ConfigError(
          `JOB_DEFINITIONS[${JSON.stringify(key)}] is not a job definition name or ARN: ${JSON.stringify(value)}`,
        );
      out[key] = value;
    }
  }
  for (const [flavour, name] of [
    ['lambda', 'JOB_DEFINITION_LAMBDA'],
    ['geolambda', 'JOB_DEFINITION_GEOLAMBDA'],
  ] as [ImageName, string][]) {
    const value = envString(env, name);
    if (value === undefined) continue;
    const key = `${flavour}:${DEFAULT_RUNTIME}`;
    if (out[key] !== undefined && out[key] !== value)
      throw new ConfigError(`${name} (${value}) and JOB_DEFINITIONS["${key}"] (${out[key]}) disagree`);
    out[key] = value;
  }
  if (Object.keys(out).length === 0)
    throw new ConfigError(
      'JOB_DEFINITIONS (or JOB_DEFINITION_LAMBDA / JOB_DEFINITION_GEOLAMBDA) is required',
    );
  return out;
}

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
  const submitRate = envInt(env, 'SUBMIT_RATE', 20);
  if (submitRate < 1 || submitRate > BATCH_SUBMIT_LIMIT)
    throw new ConfigError(
      `SUBMIT_RATE must be from 1 to ${BATCH_SUBMIT_LIMIT} (Batch's limit per account and region), got ${submitRate}`,
    );
  return {
    payloadBucket: envString(env, 'PAYLOAD_BUCKET') ?? envString(env, 'CIRRUS_PAYLOAD_BUCKET'),
    payloadPrefix,
    jobQueue: envString(env, 'JOB_QUEUE'),
    jobDefinitions: readJobDefinitions(env),
    geoLayerPattern,
    inlinePayloadLimit,
    allowedFunctions: envList(env, 'ALLOWED_FUNCTIONS'),
    logLevel: envString(env, 'LOG_LEVEL'),
    cirrusStack: envString(env, 'CIRRUS_STACK'),
    functionCacheMs: envInt(env, 'FUNCTION_CACHE_SECONDS', 300) * 1000,
    sqsConcurrency: Math.max(1, sqsConcurrency),
    submitRate,
  };
}
