// From a checked request, its function and its image to the job, all planned before anything is written: where the
// payload goes (and what is to be written there once the key is claimed), the job plan, its SubmitJob input, the
// answer the request will get, and where its idempotency record goes.
import { randomUUID } from 'node:crypto';
import type { SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { InvalidRequestError } from '../../lib/errors.js';
import { outputPrefixFor } from '../../lib/item-set.js';
import {
  type ItemIndexes,
  type JobImage,
  type JobPayload,
  type JobPlan,
  parseJobPlan,
} from '../../lib/job-plan.js';
import { planArraySize, submitJobInput } from '../../lib/job-wire.js';
import { objectIdFor } from '../../lib/object-id.js';
import { type DispatchObjects, dispatchObjects, inlinePayloadUrl } from '../../lib/payload-keys.js';
import type { PayloadWrites } from '../../lib/payload-store.js';
import { type BatchJobAnswer, type BatchJobRequest, BatchLimits, JOB_NAME } from '../../lib/request.js';
import { recordUrlFor } from '../../lib/run-record.js';
import { outputUrlFor, type S3Location } from '../../lib/s3-url.js';
import { type DispatcherConfig, payloadBucket } from './config.js';
import type { TargetFunction } from './functions.js';
import type { CheckedRequest } from './request-check.js';

/** Where the payload goes and what has to be written there (nothing yet: writes come after the claim). */
export interface Placement {
  payload: JobPayload;
  output: string;
  location: 'inline' | 's3' | 'url' | 'set';
  size?: number;
  /** the payload object or the set's items to write */
  writes?: PayloadWrites;
}

/** A request's job, planned: what the later steps write, submit, record and answer. */
export interface PlannedJob {
  plan: JobPlan;
  placement: Placement;
  /** the exact SubmitJob input (plan mode's `submit_job`) */
  input: SubmitJobCommandInput;
  /** the answer but for the job id */
  answer: Omit<BatchJobAnswer, 'job_id'>;
  /** where the request's idempotency record goes (when the dispatcher has a payload bucket) */
  dispatchRecord?: S3Location;
}

/** A valid Batch job name from a function name and qualifier (`$LATEST` is dropped; others are appended). */
export function jobNameFor(functionName: string, qualifier: string | undefined): string {
  const raw = qualifier && qualifier !== '$LATEST' ? `${functionName}-${qualifier}` : functionName;
  let name = raw.replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  name = name.slice(0, BatchLimits.maxJobNameLength);
  return JOB_NAME.test(name) ? name : 'lambda-job';
}

/** `…/in/` → `…/out/`, the layout the dispatcher itself uses for sets; anything else needs an explicit url_out. */
function setOutput(url: string): string {
  const out = outputPrefixFor(url);
  if (out === undefined)
    throw new InvalidRequestError('url_out: is required for an item set url that does not end in /in/');
  return out;
}

/**
 * The request's payload placed: a URL it names (a set's with its redrive's index list, read beforehand), a set of
 * items to write, or one payload inline or to write.
 */
export function place(
  req: BatchJobRequest,
  config: DispatcherConfig,
  objects?: DispatchObjects,
  indexes?: ItemIndexes,
): Placement {
  const perJob = req.items_per_job ?? 1;
  if (req.url !== undefined) {
    if (req.item_count === undefined)
      return {
        payload: { kind: 'single', url: req.url },
        output: req.url_out ?? outputUrlFor(req.url),
        location: 'url',
      };
    const payload: JobPayload = {
      kind: 'set',
      url: req.url,
      itemCount: req.item_count,
      itemsPerJob: perJob,
      ...(indexes ? { indexes } : {}),
    };
    return { payload, output: req.url_out ?? setOutput(req.url), location: 'url' };
  }
  // The request check made sure of the bucket (and so of the objects); were it missing, this throws saying why.
  if (!objects) payloadBucket(config, 'for requests with a payload');
  const { payload: ref, set } = objects!;
  if (req.payloads !== undefined) {
    const bodies = req.payloads.map((p) => JSON.stringify(p));
    return {
      payload: { kind: 'set', url: set.url, itemCount: bodies.length, itemsPerJob: perJob },
      output: req.url_out ?? set.url_out,
      location: 'set',
      size: bodies.reduce((n, b) => n + Buffer.byteLength(b, 'utf8'), 0),
      writes: { kind: 'items', set, bodies },
    };
  }
  const body = JSON.stringify(req.payload);
  const size = Buffer.byteLength(body, 'utf8');
  const output = req.url_out ?? ref.url_out;
  if (config.inlinePayloadLimit > 0 && size <= config.inlinePayloadLimit)
    return { payload: { kind: 'single', url: inlinePayloadUrl(body) }, output, location: 'inline', size };
  return {
    payload: { kind: 'single', url: ref.url },
    output,
    location: 's3',
    size,
    writes: { kind: 'payload', ref, body },
  };
}

/** What the dispatcher answers for a plan, but for the job id. */
function answerOf(plan: JobPlan): Omit<BatchJobAnswer, 'job_id'> {
  const p = plan.payload;
  return {
    job_name: plan.name,
    job_queue: plan.queue,
    job_definition: plan.image.jobDefinition,
    image: plan.image.flavour,
    ...(plan.image.kind === 'function-image' ? { function_image: plan.image.image } : {}),
    url: p.url,
    url_out: plan.output,
    record_url: plan.record,
    ...(p.kind === 'set'
      ? {
          item_count: p.itemCount,
          items_per_job: p.itemsPerJob,
          array_size: planArraySize(p),
          ...(p.indexes ? { item_indexes: p.indexes.url } : {}),
        }
      : {}),
    ...(plan.redriveOf !== undefined ? { redrive_of: plan.redriveOf } : {}),
  };
}

/**
 * The request's job: its objects named by the key as it is when it can be (a request's own key always can), else
 * encoded (lib/object-id.ts), else by a fresh id; the plan checked (lib/job-plan.ts) and put on the wire.
 */
export function planJob(
  req: BatchJobRequest,
  fn: TargetFunction,
  image: JobImage,
  checked: CheckedRequest & { indexes?: ItemIndexes | undefined },
  options: { config: DispatcherConfig; newId?: () => string },
): PlannedJob {
  const { config } = options;
  const id = checked.key !== undefined ? objectIdFor(checked.key) : (options.newId?.() ?? randomUUID());
  const bucket = config.payloadBucket;
  const objects =
    bucket === undefined ? undefined : dispatchObjects({ bucket, prefix: config.payloadPrefix }, fn.name, id);
  const placement = place(req, config, objects, checked.indexes);
  const plan = parseJobPlan({
    function: fn.jobArn,
    payload: placement.payload,
    output: placement.output,
    record: recordUrlFor(placement.output),
    name: req.name ?? jobNameFor(fn.name, fn.qualifier),
    queue: checked.queue,
    image,
    resources: { vcpus: req.vcpus, memory: req.memory, gpus: req.gpus },
    ...(req.timeout !== undefined ? { timeout: req.timeout } : {}),
    ...(req.attempts !== undefined ? { attempts: req.attempts } : {}),
    ...(checked.key !== undefined ? { idempotencyKey: checked.key } : {}),
    ...(req.redrive_of !== undefined ? { redriveOf: req.redrive_of } : {}),
  });
  return {
    plan,
    placement,
    input: submitJobInput(plan),
    answer: answerOf(plan),
    ...(objects ? { dispatchRecord: objects.dispatchRecord } : {}),
  };
}
