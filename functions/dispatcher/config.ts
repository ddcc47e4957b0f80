// The dispatcher's configuration, read once per container from the environment through lib/env.ts.
import { type NetworkTimeouts, networkTimeoutsFromEnv } from '../../lib/aws-config.js';
import { ConfigError, type Env, envInt, envList, envRequired, envString } from '../../lib/env.js';
import { type ImageName, Images } from '../../lib/job-plan.js';
import { type JsonTextError, parseJsonText } from '../../lib/json-text.js';

export interface DispatcherConfig {
  /** Bucket for payloads, item sets and idempotency records; only needed for requests that use them. */
  payloadBucket: string | undefined;
  payloadPrefix: string;
  /** JOB_QUEUE, with the `${CIRRUS_STACK}-` prefix when bare (withStackPrefix). */
  jobQueue: string | undefined;
  /** JOB_QUEUE_ARM64, the same way: where arm64 jobs go; undefined when the dispatcher has no arm64 queue. */
  jobQueueArm64: string | undefined;
  /**
   * Job definition (name or ARN) per image and architecture, keyed `<flavour>:<runtime>` (x86_64, e.g.
   * `lambda:python3.13`) or `<flavour>:<runtime>:arm64`, each with the `${CIRRUS_STACK}-` prefix when bare: the
   * overrides of JOB_DEFINITIONS and the two python3.12 variables. They win over the prefix's names.
   */
  jobDefinitions: Record<string, string>;
  /**
   * JOB_DEFINITION_PREFIX (the stack's name) and the `<flavour>:<runtime>` images it has definitions of
   * (JOB_DEFINITION_RUNTIMES), for both architectures: the names job-definition-names.ts derives.
   */
  definitionPrefix: { prefix: string; images: string[] } | undefined;
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
  /** Container-image functions (docs/dispatcher.md); undefined when ALLOWED_IMAGE_REPOSITORIES is unset. */
  imageFunctions: ImageFunctionConfig | undefined;
  /** How long its SDK calls may take to connect and may stay silent (NETWORK_TIMEOUT, default 10 s of silence). */
  networkTimeouts: NetworkTimeouts;
}

/** What the two-container job definitions the dispatcher registers for image functions are made of. */
export interface ImageFunctionConfig {
  /** ECR repository ARN globs a function's image must come from (the same globs limit the execution role) */
  repositories: string[];
  /** the run-lambda image of the runner container (x86_64) */
  runnerImage: string;
  /** the same for arm64 functions (RUNNER_IMAGE_ARM64); undefined: arm64 image functions are refused */
  runnerImageArm64: string | undefined;
  jobRoleArn: string;
  executionRoleArn: string;
  /** every registered definition's name starts with it (the dispatcher's IAM scope) */
  definitionPrefix: string;
  /** the queue's platform: the two containers share 127.0.0.1 only on Fargate (awsvpc) */
  platform: 'FARGATE' | 'EC2';
  assignPublicIp: 'ENABLED' | 'DISABLED';
  attempts: number;
  timeoutSeconds: number | undefined;
  /** the function container's default vCPUs and MiB (a request's vcpus and memory override them) */
  vcpus: string;
  memory: number;
  /** RUN_LAMBDA_LOG_LEVEL of the runner container */
  runnerLogLevel: string | undefined;
}

// Batch's SubmitJob request is capped at 30 KiB; a base64 data: URL is 4/3 of the JSON, plus the other fields.
export const MAX_INLINE_PAYLOAD_LIMIT = 16_384;

export const DEFAULT_GEO_LAYER_PATTERN = 'gdal|geolambda|lambgeo';

/** The runtime the two single-definition variables stand for (the images' default, docs/images.md). */
export const DEFAULT_RUNTIME = 'python3.12';

/** Batch's own limit on SubmitJob calls per second per account and region. */
export const BATCH_SUBMIT_LIMIT = 50;

const IMAGE_KEY = /^([a-z]+):([a-z0-9][a-z0-9.]*)(:arm64)?$/;
const DEFINITION =
  /^([A-Za-z0-9][A-Za-z0-9_-]{0,127}(:\d+)?|arn:aws[a-zA-Z-]*:batch:[a-z0-9-]+:\d{12}:job-definition\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}(:\d+)?)$/;

/**
 * `JOB_DEFINITIONS` (a JSON object `"<flavour>:<runtime>[:arm64]": "<name or ARN>"`) merged with the two python3.12
 * variables. Empty only when JOB_DEFINITION_PREFIX names them all.
 */
export function readJobDefinitions(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = envString(env, 'JOB_DEFINITIONS');
  if (raw !== undefined) {
    let parsed: unknown;
    try {
      parsed = parseJsonText(raw);
    } catch (err) {
      throw new ConfigError(`JOB_DEFINITIONS is ${(err as JsonTextError).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new ConfigError(
        'JOB_DEFINITIONS must be a JSON object from "<flavour>:<runtime>" to a job definition',
      );
    for (const [key, value] of Object.entries(parsed)) {
      const m = IMAGE_KEY.exec(key);
      if (!m || !(Images as readonly string[]).includes(m[1]!))
        throw new ConfigError(
          `JOB_DEFINITIONS key ${JSON.stringify(key)} is not "<flavour>:<runtime>" or "<flavour>:<runtime>:arm64" with a flavour of ${Images.join(', ')}`,
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
  if (Object.keys(out).length === 0 && envString(env, 'JOB_DEFINITION_PREFIX') === undefined)
    throw new ConfigError(
      'JOB_DEFINITION_PREFIX or JOB_DEFINITIONS (or JOB_DEFINITION_LAMBDA / JOB_DEFINITION_GEOLAMBDA) is required',
    );
  return out;
}

/** JOB_DEFINITION_PREFIX and JOB_DEFINITION_RUNTIMES (`<flavour>:<runtime>` each), or undefined without a prefix. */
export function readDefinitionPrefix(env: Env): DispatcherConfig['definitionPrefix'] {
  const prefix = envString(env, 'JOB_DEFINITION_PREFIX');
  const images = envList(env, 'JOB_DEFINITION_RUNTIMES');
  if (prefix === undefined) {
    if (images.length > 0)
      throw new ConfigError('JOB_DEFINITION_RUNTIMES is for JOB_DEFINITION_PREFIX, which is unset');
    return undefined;
  }
  if (!DEFINITION_PREFIX.test(prefix))
    throw new ConfigError(
      `JOB_DEFINITION_PREFIX must be 1-96 letters, digits, - or _, starting with a letter or digit, got ${JSON.stringify(prefix)}`,
    );
  if (images.length === 0)
    throw new ConfigError(
      'JOB_DEFINITION_RUNTIMES is required with JOB_DEFINITION_PREFIX: the images it has definitions of',
    );
  for (const key of images) {
    const m = IMAGE_KEY.exec(key);
    if (!m || m[3] || !(Images as readonly string[]).includes(m[1]!))
      throw new ConfigError(
        `JOB_DEFINITION_RUNTIMES holds ${JSON.stringify(key)}, which is not "<flavour>:<runtime>" with a flavour of ${Images.join(', ')}`,
      );
  }
  return { prefix, images };
}

const IMAGE_REFERENCE = /^[\w.:/@-]{1,255}$/;
const ROLE_ARN = /^arn:aws[a-zA-Z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const DEFINITION_PREFIX = /^[A-Za-z0-9][A-Za-z0-9_-]{0,95}$/;
const ECR_REPOSITORY_GLOB =
  /^arn:aws[a-zA-Z-]*:ecr:[a-z0-9*?-]+:(\d{12}|[*?\d]+):repository\/[a-z0-9*?][a-z0-9._/*?-]*$/;
const FARGATE_VCPUS = ['0.25', '0.5', '1', '2', '4', '8', '16'];

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const v = envString(env, name, fallback);
  if (!(values as readonly string[]).includes(v))
    throw new ConfigError(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function matching(env: Env, name: string, pattern: RegExp, what: string): string {
  const v = envRequired(env, name);
  if (!pattern.test(v)) throw new ConfigError(`${name} is not ${what}: ${JSON.stringify(v)}`);
  return v;
}

/** The image-function settings, or undefined when ALLOWED_IMAGE_REPOSITORIES is unset (image functions off). */
export function readImageFunctionConfig(env: Env): ImageFunctionConfig | undefined {
  const repositories = envList(env, 'ALLOWED_IMAGE_REPOSITORIES');
  if (repositories.length === 0) return undefined;
  for (const r of repositories)
    if (!ECR_REPOSITORY_GLOB.test(r))
      throw new ConfigError(
        `ALLOWED_IMAGE_REPOSITORIES holds ${JSON.stringify(r)}, which is not an ECR repository ARN (glob), e.g. arn:aws:ecr:us-west-2:123456789012:repository/cirrus-*`,
      );
  const vcpus = envString(env, 'JOB_VCPUS', '1');
  if (!FARGATE_VCPUS.includes(vcpus))
    throw new ConfigError(
      `JOB_VCPUS must be one of ${FARGATE_VCPUS.join(', ')}, got ${JSON.stringify(vcpus)}`,
    );
  const attempts = envInt(env, 'JOB_ATTEMPTS', 3);
  if (attempts < 1 || attempts > 10)
    throw new ConfigError(`JOB_ATTEMPTS must be from 1 to 10, got ${attempts}`);
  const timeout =
    envString(env, 'JOB_TIMEOUT_SECONDS') === undefined ? undefined : envInt(env, 'JOB_TIMEOUT_SECONDS', 0);
  if (timeout !== undefined && timeout < 60)
    throw new ConfigError(`JOB_TIMEOUT_SECONDS must be at least 60 (Batch's minimum), got ${timeout}`);
  const memory = envInt(env, 'JOB_MEMORY', 2048);
  if (memory < 512) throw new ConfigError(`JOB_MEMORY must be at least 512 MiB, got ${memory}`);
  return {
    repositories,
    runnerImage: matching(env, 'RUNNER_IMAGE', IMAGE_REFERENCE, 'an image reference'),
    runnerImageArm64:
      envString(env, 'RUNNER_IMAGE_ARM64') === undefined
        ? undefined
        : matching(env, 'RUNNER_IMAGE_ARM64', IMAGE_REFERENCE, 'an image reference'),
    jobRoleArn: matching(env, 'JOB_ROLE_ARN', ROLE_ARN, 'an IAM role ARN'),
    executionRoleArn: matching(env, 'JOB_EXECUTION_ROLE_ARN', ROLE_ARN, 'an IAM role ARN'),
    definitionPrefix: (() => {
      const p = envString(env, 'IMAGE_DEFINITION_PREFIX', 'run-lambda-fn');
      if (!DEFINITION_PREFIX.test(p))
        throw new ConfigError(
          `IMAGE_DEFINITION_PREFIX must be 1-96 letters, digits, - or _, starting with a letter or digit, got ${JSON.stringify(p)}`,
        );
      return p;
    })(),
    platform: oneOf(env, 'JOB_PLATFORM', ['FARGATE', 'EC2'] as const, 'FARGATE'),
    assignPublicIp: oneOf(env, 'JOB_ASSIGN_PUBLIC_IP', ['ENABLED', 'DISABLED'] as const, 'ENABLED'),
    attempts,
    timeoutSeconds: timeout,
    vcpus,
    memory,
    runnerLogLevel: envString(env, 'LOG_LEVEL'),
  };
}

/** cirrus-lib's convention: a bare name gets `${CIRRUS_STACK}-` in front; ARNs and already-prefixed names don't. */
export function withStackPrefix(nameOrArn: string, stack: string | undefined): string {
  if (!stack || nameOrArn.startsWith('arn:') || nameOrArn.startsWith(`${stack}-`)) return nameOrArn;
  return `${stack}-${nameOrArn}`;
}

/** The payload bucket, or ConfigError saying what a request needs it for. */
export function payloadBucket(config: Pick<DispatcherConfig, 'payloadBucket'>, why: string): string {
  if (!config.payloadBucket)
    throw new ConfigError(`PAYLOAD_BUCKET (or CIRRUS_PAYLOAD_BUCKET) is required ${why}`);
  return config.payloadBucket;
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
  const stack = envString(env, 'CIRRUS_STACK');
  const queue = envString(env, 'JOB_QUEUE');
  const queueArm64 = envString(env, 'JOB_QUEUE_ARM64');
  const definitions = Object.entries(readJobDefinitions(env)).map(([k, d]) => [k, withStackPrefix(d, stack)]);
  return {
    payloadBucket: envString(env, 'PAYLOAD_BUCKET') ?? envString(env, 'CIRRUS_PAYLOAD_BUCKET'),
    payloadPrefix,
    jobQueue: queue === undefined ? undefined : withStackPrefix(queue, stack),
    jobQueueArm64: queueArm64 === undefined ? undefined : withStackPrefix(queueArm64, stack),
    jobDefinitions: Object.fromEntries(definitions),
    definitionPrefix: readDefinitionPrefix(env),
    geoLayerPattern,
    inlinePayloadLimit,
    allowedFunctions: envList(env, 'ALLOWED_FUNCTIONS'),
    logLevel: envString(env, 'LOG_LEVEL'),
    cirrusStack: stack,
    functionCacheMs: envInt(env, 'FUNCTION_CACHE_SECONDS', 300) * 1000,
    sqsConcurrency: Math.max(1, sqsConcurrency),
    submitRate,
    imageFunctions: readImageFunctionConfig(env),
    networkTimeouts: networkTimeoutsFromEnv(env),
  };
}
