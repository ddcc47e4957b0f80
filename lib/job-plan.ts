// The Batch job one request becomes, as one validated value, and the names of everything it carries: its `Ref::`
// parameters, the runner's environment variables, its containers. The dispatcher plans it; lib/job-wire.ts writes it
// into a SubmitJob input and reads it back from a job; the runner and post-batch read it under these names (the
// job contract: docs/architecture.md "The job contract").
import { BATCH_JOB_ID } from './batch-job-id.js';
import { InvalidRequestError } from './errors.js';
import { indexListProblem, isItemSetUrl, MAX_ITEMS } from './item-set.js';
import { parseFunctionRef } from './lambda-arn.js';
import { recordUrlFor } from './run-record.js';
import { isS3Url, parseS3Url } from './s3-url.js';

/** Image flavours: the plain Lambda base, or the same with GDAL/PROJ. */
export const Images = ['lambda', 'geolambda'] as const;
export type ImageName = (typeof Images)[number];

/** The job's `Ref::` parameters: the function it runs, its payload URL, its output URL. */
export const JobParameter = {
  function: 'lambda_function',
  url: 'url',
  output: 'url_out',
} as const;
/** The same in the order of the runner's command (`run Ref::lambda_function Ref::url Ref::url_out`). */
export const JobParameterNames = [JobParameter.function, JobParameter.url, JobParameter.output] as const;
export type JobParameters = Record<(typeof JobParameterNames)[number], string>;

/** The runner's item-set environment in an array job; Batch adds `AWS_BATCH_JOB_ARRAY_INDEX` to each child's. */
export const RUN_LAMBDA_ITEM_COUNT = 'RUN_LAMBDA_ITEM_COUNT';
export const RUN_LAMBDA_ITEMS_PER_JOB = 'RUN_LAMBDA_ITEMS_PER_JOB';
export const AWS_BATCH_JOB_ARRAY_INDEX = 'AWS_BATCH_JOB_ARRAY_INDEX';
/**
 * The job's attempt duration in seconds, which the runner keeps every invocation's deadline within (its
 * `--job-timeout`): set by the dispatcher from the request's `timeout` and by the job definitions from their own.
 */
export const RUN_LAMBDA_JOB_TIMEOUT = 'RUN_LAMBDA_JOB_TIMEOUT';
/** A redrive's index list (lib/item-set.ts): the runner runs those items of the set instead of all of them. */
export const RUN_LAMBDA_ITEM_INDEXES = 'RUN_LAMBDA_ITEM_INDEXES';
/** The Batch job a redrive runs again (its failed and missing items), which every run record of it names. */
export const RUN_LAMBDA_REDRIVE_OF = 'RUN_LAMBDA_REDRIVE_OF';
/** Set by the runner for the function it runs, so `isBatchJob()` holds wherever the runner runs it. */
export const RUN_LAMBDA_JOB = 'RUN_LAMBDA_JOB';
/** The runner's log level (`--log-level`), which the image functions' job definitions set from the dispatcher's. */
export const RUN_LAMBDA_LOG_LEVEL = 'RUN_LAMBDA_LOG_LEVEL';
/**
 * Set by each run-lambda image (images/Dockerfile): the one Lambda runtime it serves (the runner refuses a function of
 * another) and the image's own name (which the refusal turns into the name of the image to use).
 */
export const RUN_LAMBDA_IMAGE_RUNTIME = 'RUN_LAMBDA_IMAGE_RUNTIME';
export const RUN_LAMBDA_IMAGE = 'RUN_LAMBDA_IMAGE';
/** Every variable of the runner's starts so: the runner's own settings, never passed on to the function. */
export const RUNNER_ENV_PREFIX = 'RUN_LAMBDA_';

/**
 * When a SubmitJob carries its own retryStrategy it replaces the definition's entirely, so the template's
 * rule (the list in template.yaml's job definitions) travels with it: retry a lost EC2 host or Fargate Spot
 * task and exit code 4 (payload I/O); stop on anything else (1 function failed, 2 bad input, 3 function not
 * preparable, 124 timeout, 143 cancelled).
 */
export const RETRY_ON_EXIT = [
  { onStatusReason: 'Host EC2*', action: 'RETRY' },
  { onStatusReason: 'Your Spot Task was interrupted*', action: 'RETRY' },
  { onExitCode: '4', action: 'RETRY' },
  { onExitCode: '*', action: 'EXIT' },
] as const;

/** A redrive's index list: where it is, and how many indexes it holds (the job's array is sized by them). */
export interface ItemIndexes {
  url: string;
  count: number;
}

/**
 * The job's input: one payload URL (`s3://…` or `data:`), or an item set (`<url><i>.json`, 0-based), all of it or
 * the items an index list names.
 */
export type JobPayload =
  | { kind: 'single'; url: string }
  | { kind: 'set'; url: string; itemCount: number; itemsPerJob: number; indexes?: ItemIndexes };

/**
 * The containers of an image function's job (docs/dispatcher.md "Container-image functions"): the runner, a gate that
 * exits 0 once the runner's Runtime API accepts connections, and the function's own image, started after the gate.
 */
export const FUNCTION_CONTAINER = 'function';
export const RUNNER_CONTAINER = 'runner';
export const READY_CONTAINER = 'ready';
/** Where the runner serves the Runtime API in an image function's task (its containers share 127.0.0.1). */
export const EXTERNAL_RUNTIME_API = '127.0.0.1:9001';

/** A function's image pinned by digest, as Lambda resolves it: `<registry>/<repository>@sha256:<64 hex>`. */
export const RESOLVED_IMAGE = /^([a-z0-9.-]+(?::\d+)?)\/([a-z0-9][a-z0-9._/-]*)@sha256:([0-9a-f]{64})$/;
const DEFINITION_ARN =
  /^arn:aws[a-zA-Z-]*:batch:[a-z0-9-]+:\d{12}:job-definition\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}:\d+$/;

/**
 * What runs the function: a job definition of a run-lambda image, chosen by flavour and the function's runtime
 * (`definition`); or, for a function of PackageType Image, the two-container definition registered for its image
 * digest (`function-image`), with what each submission adds to the function's container.
 */
export type JobImage =
  | { kind: 'definition'; flavour: ImageName; runtime: string; jobDefinition: string }
  | {
      kind: 'function-image';
      /** the runner container's flavour: always the plain run-lambda image */
      flavour: 'lambda';
      /** the function's resolved image (`…@sha256:…`) */
      image: string;
      /** the registered definition's ARN with its revision */
      jobDefinition: string;
      /** per-job variables of the function's container (its log stream name) */
      environment: { name: string; value: string }[];
    };

export interface JobResources {
  /** vCPUs: a whole number ≥ 1, or 0.25 / 0.5 (Fargate). */
  vcpus?: number;
  /** Memory in MiB. */
  memory?: number;
  /** GPUs; 0 or absent asks for none. */
  gpus?: number;
}

export interface JobPlan {
  /** The function ARN the job runs (qualified when the request was). */
  function: string;
  payload: JobPayload;
  /** `url_out`: a result URL, or for a set the prefix its results go under (ends in `/`). */
  output: string;
  /** The run record (docs/runner.md "Run records"): the output with `.json` → `.run.json`; for a set, its prefix. */
  record: string;
  name: string;
  queue: string;
  image: JobImage;
  resources: JobResources;
  /** Seconds each attempt may run. */
  timeout?: number;
  /** Attempts in all; sent with RETRY_ON_EXIT. */
  attempts?: number;
  /** Names the stored objects and guards against a second job (docs/dispatcher.md "Idempotency"). */
  idempotencyKey?: string;
  /** The Batch job this one redrives (RUN_LAMBDA_REDRIVE_OF), which its run records name. */
  redriveOf?: string;
}

function fail(field: string, problem: string): never {
  throw new InvalidRequestError(`${field}: ${problem}`);
}

function count(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    fail(field, `must be a whole number from 1 to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function s3Prefix(url: unknown, field: string, set: boolean): string {
  if (typeof url !== 'string' || url === '') fail(field, 'is required');
  if (set !== isItemSetUrl(url))
    fail(
      field,
      set ? `must end in / for an item set, got ${url}` : `must not end in / for one payload, got ${url}`,
    );
  if (url.startsWith('data:') && !set) return url;
  if (!isS3Url(url)) fail(field, `must be an s3:// URL, got ${url}`);
  try {
    parseS3Url(set ? `${url}x` : url);
  } catch (err) {
    fail(field, (err as Error).message);
  }
  return url;
}

/** A plan as its maker gives it: the record may be left out, as it follows from the output. */
export type JobPlanInput = Omit<JobPlan, 'record'> & { record?: string };

/**
 * Checks a plan's invariants (the shape a runner and Batch rely on) and returns it, with its run record's URL where it
 * names none (the output's, by lib/run-record.ts); throws InvalidRequestError naming the request field at fault. The
 * dispatcher passes every plan through it.
 */
export function parseJobPlan(raw: JobPlanInput): JobPlan {
  const p = raw.payload;
  const set = p.kind === 'set';
  if (set) {
    count(p.itemCount, 'payloads', MAX_ITEMS);
    count(p.itemsPerJob, 'items_per_job', MAX_ITEMS);
    if (p.indexes !== undefined) {
      const problem = indexListProblem(p.url, p.indexes.url);
      if (problem) fail('item_indexes', problem);
      count(p.indexes.count, 'item_indexes', Math.min(MAX_ITEMS, p.itemCount));
    }
  }
  if (raw.redriveOf !== undefined && !BATCH_JOB_ID.test(raw.redriveOf))
    fail('redrive_of', `is not a Batch job id: ${JSON.stringify(raw.redriveOf.slice(0, 80))}`);
  for (const [field, url] of [
    ['url', p.url],
    ['url_out', raw.output],
  ] as const)
    s3Prefix(url, field, set);
  const record = recordUrlFor(raw.output);
  if (raw.record !== undefined && raw.record !== record)
    fail('url_out', `has no run record URL: ${raw.record}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(raw.name))
    fail('name', `is not a Batch job name: ${raw.name}`);
  if (raw.queue === '') fail('queue', 'is required');
  const img = raw.image;
  if (img.kind === 'function-image') {
    if (!RESOLVED_IMAGE.test(img.image) || !DEFINITION_ARN.test(img.jobDefinition))
      fail('image', `is not a resolved function image and its job definition: ${JSON.stringify(img)}`);
    if (raw.resources.gpus) fail('gpus', 'image functions run on Fargate, which has no GPUs');
  } else if (img.kind !== 'definition' || !(Images as readonly string[]).includes(img.flavour))
    fail('image', `is not a known image: ${JSON.stringify(img)}`);
  if (parseFunctionRef(raw.function)?.home === undefined)
    fail('lambda_function', `is not a full function ARN: ${raw.function}`);
  return { ...raw, record };
}
