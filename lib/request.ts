// The dispatcher's request and answer: one exported type each, and the one parser that validates a raw request.
import { InvalidRequestError } from './errors.js';
import { isS3Url, parseS3Url } from './s3-url.js';

export const Images = ['lambda', 'geolambda'] as const;
export type ImageName = (typeof Images)[number];

/** Job settings a caller may add to a request (the feeder helper takes the same as its `options`). */
export interface JobOptions {
  /** Which image runs the function; default from the function's `batch:image` tag or its layers. */
  image?: ImageName;
  /** Job queue name or ARN; default `JOB_QUEUE`. A bare name gets the `${CIRRUS_STACK}-` prefix. */
  queue?: string;
  /** Job name; default derived from the function name. */
  name?: string;
  /** vCPUs: a whole number ≥ 1, or 0.25 / 0.5 (Fargate). */
  vcpus?: number;
  /** Memory in MiB, whole number. */
  memory?: number;
  /** GPUs, whole number; 0 asks for none. */
  gpus?: number;
  /** Seconds each attempt may run (Batch's minimum is 60). */
  timeout?: number;
  /** Attempts in all, 1–10. */
  attempts?: number;
  /** Where the runner writes the result (s3://); default next to the payload as `<key>_out.json`. */
  url_out?: string;
}

interface RequestBase extends JobOptions {
  /** Function name or ARN, optionally qualified (`:alias`, `:42`, `:$LATEST`). */
  lambda_function: string;
}

/** One dispatcher request: exactly one of `payload` (any JSON but null) and `url` (s3://). */
export type BatchJobRequest =
  | (RequestBase & { payload: unknown; url?: undefined })
  | (RequestBase & { url: string; payload?: undefined });

/** What the dispatcher answers for each submitted job. */
export interface BatchJobAnswer {
  job_id: string;
  job_name: string;
  job_queue: string;
  job_definition: string;
  image: ImageName;
  /** The payload URL the job reads: `s3://…` or an inline `data:application/json;base64,…`. */
  url: string;
  url_out: string;
}

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
  'image',
  'queue',
  'name',
  'vcpus',
  'memory',
  'gpus',
  'timeout',
  'attempts',
] as const;

export const RequestFields = ['lambda_function', 'payload', 'url', ...JobOptionFields] as const;

/** A Batch job name: letters, digits, `-` and `_`, starting with a letter or digit, at most 128 characters. */
export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

// Lambda's own FunctionName pattern (name, partial ARN or full ARN, optional qualifier).
const FUNCTION =
  /^(arn:aws[a-zA-Z-]*:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d:)?(\d{12}:)?(function:)?([a-zA-Z0-9_-]{1,64})(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const QUEUE_ARN = /^arn:aws[a-zA-Z-]*:batch:[a-z0-9-]+:\d{12}:job-queue\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

function fail(field: string, problem: string): never {
  throw new InvalidRequestError(`${field}: ${problem}`);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function string(obj: Record<string, unknown>, field: string): string | undefined {
  const v = obj[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(field, `must be a string, got ${show(v)}`);
  if (v === '') fail(field, 'must not be empty');
  return v;
}

function integer(obj: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = obj[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(field, `must be a whole number, got ${show(v)}`);
  if (v < min || v > max) fail(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function s3Url(obj: Record<string, unknown>, field: string): string | undefined {
  const v = string(obj, field);
  if (v === undefined) return undefined;
  if (!isS3Url(v)) fail(field, `must be an s3:// URL, got ${show(v)}`);
  try {
    parseS3Url(v);
  } catch (err) {
    fail(field, (err as Error).message);
  }
  return v;
}

/**
 * Deepest nesting a payload may have. JSON.stringify recurses (a 100,000-deep payload is a RangeError), and
 * Python's json module stops near 1,000 levels, so a deeper payload could not reach a Python handler anyway.
 */
export const MAX_PAYLOAD_DEPTH = 512;

/** True when `value` nests arrays/objects deeper than `max` levels; iterative, so any depth is safe to check. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

function vcpus(obj: Record<string, unknown>): number | undefined {
  const v = obj.vcpus;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('vcpus', `must be a number, got ${show(v)}`);
  const fractional = (BatchLimits.fractionalVcpus as readonly number[]).includes(v);
  if (!fractional && !(Number.isInteger(v) && v >= 1 && v <= BatchLimits.maxVcpus))
    fail('vcpus', `must be 0.25, 0.5 or a whole number from 1 to ${BatchLimits.maxVcpus}, got ${v}`);
  return v;
}

/**
 * Turns a raw event (a direct invoke's event, or one SQS record's parsed body) into a request, or throws
 * `InvalidRequestError` whose message starts with the field at fault.
 */
export function parseRequest(raw: unknown): BatchJobRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(
      'request',
      `must be a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`,
    );
  const obj = raw as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !(RequestFields as readonly string[]).includes(k));
  if (unknown.length > 0)
    fail(
      unknown[0]!,
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => show(k)).join(', ')}`,
    );

  const lambda_function = string(obj, 'lambda_function');
  if (lambda_function === undefined) fail('lambda_function', 'is required');
  if (lambda_function.length > 170 || !FUNCTION.test(lambda_function))
    fail('lambda_function', `is not a Lambda function name or ARN: ${show(lambda_function)}`);

  const hasPayload = obj.payload !== undefined;
  const url = s3Url(obj, 'url');
  if (hasPayload && url !== undefined) fail('payload', 'give either payload or url, not both');
  if (!hasPayload && url === undefined) fail('payload', 'one of payload or url is required');
  if (obj.payload === null) fail('payload', 'must not be null');
  if (hasPayload && nestsDeeperThan(obj.payload, MAX_PAYLOAD_DEPTH))
    fail('payload', `nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);

  const image = string(obj, 'image');
  if (image !== undefined && !(Images as readonly string[]).includes(image))
    fail('image', `must be one of ${Images.join(', ')}, got ${show(image)}`);
  const queue = string(obj, 'queue');
  if (queue !== undefined && !QUEUE_NAME.test(queue) && !QUEUE_ARN.test(queue))
    fail('queue', `is not a job queue name or ARN: ${show(queue)}`);
  const name = string(obj, 'name');
  if (name !== undefined && !JOB_NAME.test(name))
    fail('name', `must be 1-128 letters, digits, - or _, starting with a letter or digit, got ${show(name)}`);

  const options: JobOptions = {
    image: image as ImageName | undefined,
    queue,
    name,
    vcpus: vcpus(obj),
    memory: integer(obj, 'memory', BatchLimits.minMemoryMiB, BatchLimits.maxMemoryMiB),
    gpus: integer(obj, 'gpus', 0, BatchLimits.maxGpus),
    timeout: integer(obj, 'timeout', BatchLimits.minTimeoutSeconds, BatchLimits.maxTimeoutSeconds),
    attempts: integer(obj, 'attempts', BatchLimits.minAttempts, BatchLimits.maxAttempts),
    url_out: s3Url(obj, 'url_out'),
  };
  for (const k of Object.keys(options) as (keyof JobOptions)[])
    if (options[k] === undefined) delete options[k];
  return url !== undefined
    ? { lambda_function, url, ...options }
    : { lambda_function, payload: obj.payload, ...options };
}

/** Parses one SQS record body (a JSON text) into a request; a body that is not JSON names `body`. */
export function parseRequestBody(body: string): BatchJobRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    fail('body', `is not JSON (${(err as Error).message})`);
  }
  return parseRequest(raw);
}

/** The parts of a function reference: bare name and qualifier (`undefined` when unqualified). */
export function functionParts(ref: string): { name: string; qualifier?: string } {
  const m = FUNCTION.exec(ref);
  if (!m)
    throw new InvalidRequestError(`lambda_function: is not a Lambda function name or ARN: ${show(ref)}`);
  return m[8] === undefined ? { name: m[6]! } : { name: m[6]!, qualifier: m[8] };
}
