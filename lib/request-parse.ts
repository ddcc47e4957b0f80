// The one parser of the dispatcher's requests: a raw event (a direct invoke's, or one SQS record's body) becomes a
// request (lib/request.ts's ParsedRequest) or an InvalidRequestError whose message starts with the field at fault.

import { BATCH_JOB_ID } from './batch-job-id.js';
import { InvalidRequestError } from './errors.js';
import { indexListProblem, isItemSetUrl, MAX_ITEMS } from './item-set.js';
import { type ImageName, Images } from './job-plan.js';
import { type JsonTextError, parseJsonText } from './json-text.js';
import { parseFunctionRef } from './lambda-arn.js';
import { keyProblem } from './object-id.js';
import {
  BatchLimits,
  JOB_NAME,
  type JobOptions,
  type ParsedRequest,
  type RequestBase,
  RequestFields,
} from './request.js';
import { hasDotSegment, isS3Url, parseS3Url, type S3Location } from './s3-url.js';

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const QUEUE_ARN = /^arn:aws[a-zA-Z-]*:batch:[a-z0-9-]+:\d{12}:job-queue\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

function fail(field: string, problem: string): never {
  throw new InvalidRequestError(`${field}: ${problem}`);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** What a value is, never what it holds: for fields that carry payload text (or a `data:` URL of it). */
function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
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

/** An s3:// URL field: the URL as given, and where it points. */
function s3Location(
  obj: Record<string, unknown>,
  field: string,
): { url: string; at: S3Location } | undefined {
  const v = string(obj, field);
  if (v === undefined) return undefined;
  // Only the scheme is named: a `data:` URL is a payload.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v)?.[1];
  if (!isS3Url(v)) fail(field, `must be an s3:// URL, got ${scheme ? `a ${scheme}: URL` : 'no URL'}`);
  let at: S3Location;
  try {
    at = parseS3Url(v);
  } catch (err) {
    fail(field, (err as Error).message);
  }
  if (hasDotSegment(at.key))
    fail(
      field,
      `must not hold . or .. between slashes (S3 keeps them, other tools resolve them): ${show(v)}`,
    );
  return { url: v, at };
}

function s3Url(obj: Record<string, unknown>, field: string): string | undefined {
  return s3Location(obj, field)?.url;
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

type Obj = Record<string, unknown>;

/** The event as an object of known fields only. */
function requestObject(raw: unknown): Obj {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(
      'request',
      `must be a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`,
    );
  const obj = raw as Obj;
  const unknown = Object.keys(obj).filter((k) => !(RequestFields as readonly string[]).includes(k));
  if (unknown.length > 0)
    fail(
      unknown[0]!,
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => show(k)).join(', ')}`,
    );
  return obj;
}

/** `lambda_function`: required, a function name or ARN as Lambda takes it (lib/lambda-arn.ts). */
function functionField(obj: Obj): string {
  const lambda_function = string(obj, 'lambda_function');
  if (lambda_function === undefined) fail('lambda_function', 'is required');
  if (parseFunctionRef(lambda_function) === undefined)
    fail('lambda_function', `is not a Lambda function name or ARN: ${show(lambda_function)}`);
  return lambda_function;
}

interface PayloadFields {
  payload?: unknown;
  url?: string;
  payloads?: unknown[];
  item_count?: number;
  item_indexes?: { url: string; at: S3Location };
  items_per_job?: number;
  /** `payloads`, or a `url` that is an item set */
  set: boolean;
}

/** Exactly one of `payload`, `url` and `payloads`; `item_count` with a set's url, `items_per_job` with any set. */
function payloadFields(obj: Obj): PayloadFields {
  const given = (['payload', 'url', 'payloads'] as const).filter((k) => obj[k] !== undefined);
  if (given.length > 1) fail(given[0]!, `give one of payload, url or payloads, not ${given.join(' and ')}`);
  if (given.length === 0) fail('payload', 'one of payload, url or payloads is required');
  const url = s3Url(obj, 'url');
  if (obj.payload === null) fail('payload', 'must not be null');
  if (obj.payload !== undefined && nestsDeeperThan(obj.payload, MAX_PAYLOAD_DEPTH))
    fail('payload', `nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  const payloads = payloadList(obj.payloads);
  const setUrl = url !== undefined && isItemSetUrl(url);
  const set = payloads !== undefined || setUrl;
  const item_count = integer(obj, 'item_count', 1, MAX_ITEMS);
  if (setUrl && item_count === undefined)
    fail('item_count', 'is required with an item set url (one that ends in /)');
  if (item_count !== undefined && !setUrl)
    fail('item_count', 'goes only with an item set url (one that ends in /)');
  const items_per_job = integer(obj, 'items_per_job', 1, MAX_ITEMS);
  if (items_per_job !== undefined && !set)
    fail('items_per_job', 'goes only with payloads or an item set url');
  const item_indexes = indexListField(obj, setUrl ? url : undefined);
  return { payload: obj.payload, url, payloads, item_count, item_indexes, items_per_job, set };
}

/** `item_indexes`: a redrive's index list, an s3:// object directly under the set's `url` (lib/item-set.ts). */
function indexListField(obj: Obj, setUrl: string | undefined): PayloadFields['item_indexes'] {
  const list = s3Location(obj, 'item_indexes');
  if (list === undefined) return undefined;
  if (setUrl === undefined) fail('item_indexes', 'goes only with an item set url (one that ends in /)');
  const problem = indexListProblem(setUrl, list.url);
  if (problem) fail('item_indexes', problem);
  return list;
}

/** `redrive_of`: the Batch job a redrive runs again (its id; an array child's `<id>:<index>`). */
function redriveField(obj: Obj): string | undefined {
  const v = string(obj, 'redrive_of');
  if (v !== undefined && !BATCH_JOB_ID.test(v)) fail('redrive_of', `is not a Batch job id: ${show(v)}`);
  return v;
}

/** The job's settings: image, queue, name, where results go (a prefix for a set), resources and limits. */
function jobFields(obj: Obj, set: boolean): Omit<JobOptions, 'items_per_job'> {
  const image = string(obj, 'image');
  if (image !== undefined && !(Images as readonly string[]).includes(image))
    fail('image', `must be one of ${Images.join(', ')}, got ${show(image)}`);
  const queue = string(obj, 'queue');
  if (queue !== undefined && !QUEUE_NAME.test(queue) && !QUEUE_ARN.test(queue))
    fail('queue', `is not a job queue name or ARN: ${show(queue)}`);
  const name = string(obj, 'name');
  if (name !== undefined && !JOB_NAME.test(name))
    fail('name', `must be 1-128 letters, digits, - or _, starting with a letter or digit, got ${show(name)}`);
  const url_out = s3Url(obj, 'url_out');
  if (url_out !== undefined && set !== isItemSetUrl(url_out))
    fail(
      'url_out',
      set ? 'must end in / for an item set (its results go under it)' : 'must not end in / for one payload',
    );
  return {
    image: image as ImageName | undefined,
    queue,
    name,
    vcpus: vcpus(obj),
    memory: integer(obj, 'memory', BatchLimits.minMemoryMiB, BatchLimits.maxMemoryMiB),
    gpus: integer(obj, 'gpus', 0, BatchLimits.maxGpus),
    timeout: integer(obj, 'timeout', BatchLimits.minTimeoutSeconds, BatchLimits.maxTimeoutSeconds),
    attempts: integer(obj, 'attempts', BatchLimits.minAttempts, BatchLimits.maxAttempts),
    url_out,
  };
}

/**
 * Turns a raw event (a direct invoke's event, or one SQS record's parsed body) into a request, or throws
 * `InvalidRequestError` whose message starts with the field at fault (fields are checked in this order). Its keys
 * come in one order, which the idempotency record's fingerprint of the request depends on.
 */
export function parseRequest(raw: unknown): ParsedRequest {
  const obj = requestObject(raw);
  const lambda_function = functionField(obj);
  const { payload, url, payloads, item_count, item_indexes, items_per_job, set } = payloadFields(obj);
  const idempotency_key = string(obj, 'idempotency_key');
  const keyFault = idempotency_key === undefined ? undefined : keyProblem(idempotency_key);
  if (keyFault) fail('idempotency_key', keyFault);
  if (obj.plan !== undefined && typeof obj.plan !== 'boolean')
    fail('plan', `must be true or false, got ${show(obj.plan)}`);
  const options: JobOptions & Omit<RequestBase, 'lambda_function'> = {
    ...jobFields(obj, set),
    items_per_job,
    idempotency_key,
    plan: obj.plan as boolean | undefined,
    redrive_of: redriveField(obj),
  };
  for (const k of Object.keys(options) as (keyof typeof options)[])
    if (options[k] === undefined) delete options[k];
  if (payloads !== undefined) return { lambda_function, payloads, ...options };
  if (url !== undefined)
    return item_count === undefined
      ? { lambda_function, url, ...options }
      : {
          lambda_function,
          url,
          item_count,
          ...(item_indexes ? { item_indexes: item_indexes.url } : {}),
          ...options,
          ...(item_indexes ? { indexListAt: item_indexes.at } : {}),
        };
  return { lambda_function, payload, ...options };
}

/** `payloads`: an array of 1 to MAX_ITEMS events, none null or too deep. */
function payloadList(v: unknown): unknown[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) fail('payloads', `must be an array of events, got ${kind(v)}`);
  if (v.length < 1 || v.length > MAX_ITEMS)
    fail('payloads', `must hold 1 to ${MAX_ITEMS} events, got ${v.length}`);
  v.forEach((item, i) => {
    if (item === null || item === undefined) fail('payloads', `item ${i} must not be null`);
    if (nestsDeeperThan(item, MAX_PAYLOAD_DEPTH))
      fail('payloads', `item ${i} nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  });
  return v;
}

/** Parses one SQS record body (a JSON text) into a request; a body that is not JSON names `body`. */
export function parseRequestBody(body: string): ParsedRequest {
  let raw: unknown;
  try {
    raw = parseJsonText(body);
  } catch (err) {
    fail('body', `is ${(err as JsonTextError).message}`);
  }
  return parseRequest(raw);
}
