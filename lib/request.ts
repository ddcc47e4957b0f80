// The dispatcher's request and answer: one exported type each, and the limits and names they are held to. The one
// parser that validates a raw request is request-parse.ts.
import type { ImageName, JobResources } from './job-plan.js';
import type { S3Location } from './s3-url.js';

export { type ImageName, Images } from './job-plan.js';

/** Job settings a caller may add to a request (the feeder helper takes the same as its `options`). */
export interface JobOptions extends JobResources {
  /** Which image runs the function; default from the function's `batch:image` tag or its layers. */
  image?: ImageName;
  /** Job queue name or ARN; default `JOB_QUEUE`. A bare name gets the `${CIRRUS_STACK}-` prefix. */
  queue?: string;
  /** Job name; default derived from the function name. */
  name?: string;
  /** Seconds each attempt may run (Batch's minimum is 60). */
  timeout?: number;
  /** Attempts in all, 1–10. */
  attempts?: number;
  /** Where the runner writes the result (s3://); default next to the payload as `<key>_out.json`; for a set, a prefix ending in `/`. */
  url_out?: string;
  /** Items each child of an item set's array job runs, one after another in one warm runtime (default 1). */
  items_per_job?: number;
}

export interface RequestBase extends JobOptions {
  /** Function name or ARN, optionally qualified (`:alias`, `:42`, `:$LATEST`). */
  lambda_function: string;
  /** Same key → same answer and never a second job; also names the stored payload objects. */
  idempotency_key?: string;
  /** Check and store as usual, submit nothing, answer with the SubmitJob input (`submit_job`). */
  plan?: boolean;
  /** The Batch job this one runs again (a redrive): the job's run records name it. */
  redrive_of?: string;
}

/**
 * One dispatcher request: exactly one of `payload` (any JSON but null), `url` (s3://; an item set when it ends in
 * `/`, then with `item_count`, and optionally `item_indexes`: a redrive's index list under it) and `payloads` (1 to
 * 10,000 events, stored as an item set).
 */
export type BatchJobRequest =
  | (RequestBase & { payload: unknown; url?: undefined; payloads?: undefined; item_indexes?: undefined })
  | (RequestBase & {
      url: string;
      item_count?: number;
      item_indexes?: string;
      payload?: undefined;
      payloads?: undefined;
    })
  | (RequestBase & { payloads: unknown[]; payload?: undefined; url?: undefined; item_indexes?: undefined });

/**
 * A request as lib/request-parse.ts leaves it: its fields, and where its redrive's index list is (`item_indexes`,
 * parsed there once, so the dispatcher reads the list without parsing its URL again). The location is not a field a
 * caller sends: the idempotency record's fingerprint of the request leaves it out.
 */
export type ParsedRequest = BatchJobRequest & { indexListAt?: S3Location };

/** What the dispatcher answers for a submitted job (`item_count`, `items_per_job`, `array_size` for an item set). */
export interface BatchJobAnswer {
  job_id: string;
  job_name: string;
  job_queue: string;
  job_definition: string;
  image: ImageName;
  /** For a container-image function: its image by digest, which the job runs beside the run-lambda runner. */
  function_image?: string;
  /** The payload URL the job reads: `s3://…`, an inline `data:application/json;base64,…`, or a set's `…/in/` prefix. */
  url: string;
  url_out: string;
  /** The run record the runner writes (a set's records are under its `url_out` prefix). */
  record_url: string;
  item_count?: number;
  items_per_job?: number;
  array_size?: number;
  /** A redrive's index list: the job runs only those items (`array_size` children for them). */
  item_indexes?: string;
  /** The job a redrive runs again. */
  redrive_of?: string;
}

/** The answer in plan mode: everything but `job_id`, and the exact SubmitJob input (for `batch:submitJob.sync`). */
export type BatchJobPlanAnswer = Omit<BatchJobAnswer, 'job_id'> & { submit_job: Record<string, unknown> };

/** AWS Batch's limits, as its SubmitJob documentation states them. */
export const BatchLimits = {
  fractionalVcpus: [0.25, 0.5],
  maxVcpus: 10_000,
  /** Batch refuses less than 4 MiB; its API field is a 32-bit integer. */
  minMemoryMiB: 4,
  maxMemoryMiB: 2 ** 31 - 1,
  maxGpus: 64,
  minTimeoutSeconds: 60,
  maxTimeoutSeconds: 2 ** 31 - 1,
  minAttempts: 1,
  maxAttempts: 10,
  maxJobNameLength: 128,
} as const;

/** The request fields that shape the job (everything but the function and the payload). */
export const JobOptionFields = [
  'url_out',
  'items_per_job',
  'image',
  'queue',
  'name',
  'vcpus',
  'memory',
  'gpus',
  'timeout',
  'attempts',
] as const;

export const RequestFields = [
  'lambda_function',
  'payload',
  'url',
  'payloads',
  'item_count',
  'item_indexes',
  'idempotency_key',
  'plan',
  'redrive_of',
  ...JobOptionFields,
] as const;

/** An idempotency key: it becomes part of object keys (lib/object-id.ts says what may and what may not). */
export { IDEMPOTENCY_KEY } from './object-id.js';

/** A Batch job name: letters, digits, `-` and `_`, starting with a letter or digit, at most 128 characters. */
export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
