// From a checked request, its function and its image to the job, all planned before anything is written: where the
// payload goes (and what is to be written there once the key is claimed), the job plan, its SubmitJob input and the
// answer the request will get (lib/job-wire.ts), and where its idempotency record goes.
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
import { planOnTheWire } from '../../lib/job-wire.js';
import { type DispatchObjects, dispatchObjects, inlinePayloadUrl } from '../../lib/payload-keys.js';
import type { PayloadWrites } from '../../lib/payload-store.js';
import { type BatchJobAnswer, type BatchJobRequest, BatchLimits, JOB_NAME } from '../../lib/request.js';
import { outputUrlFor, type S3Location } from '../../lib/s3-url.js';
import type { DispatcherConfig } from './config.js';
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

/** Where the request's payload goes, and the objects a dispatch with a payload bucket keeps. */
interface Placed {
  placement: Placement;
  objects?: DispatchObjects;
}

/** A checked request, with its redrive's index list when it has one (read beforehand: item-indexes.ts). */
export type CheckedJob = CheckedRequest & { indexes?: ItemIndexes | undefined };

/**
 * The request's payload placed: a URL it names (a set's with its redrive's index list), a set of items to write, or
 * one payload inline or to write.
 */
export function place(
  req: BatchJobRequest,
  checked: CheckedJob,
  fn: string,
  config: DispatcherConfig,
): Placed {
  const perJob = req.items_per_job ?? 1;
  // The dispatch's own objects (its record, and the payload it writes) where it has a bucket: a request that needs
  // them and has none was refused by the request check.
  const objects =
    checked.bucket === undefined
      ? undefined
      : dispatchObjects({ bucket: checked.bucket, prefix: config.payloadPrefix }, fn, checked.objectId);
  const kept = objects ? { objects } : {};
  if (req.url !== undefined && req.item_count !== undefined) {
    // `…/in/` → `…/out/`, the layout the dispatcher itself uses for sets; any other prefix needs an explicit url_out.
    const output = req.url_out ?? outputPrefixFor(req.url);
    if (output === undefined)
      throw new InvalidRequestError('url_out: is required for an item set url that does not end in /in/');
    const payload: JobPayload = {
      kind: 'set',
      url: req.url,
      itemCount: req.item_count,
      itemsPerJob: perJob,
      ...(checked.indexes ? { indexes: checked.indexes } : {}),
    };
    return { placement: { payload, output, location: 'url' }, ...kept };
  }
  if (req.url !== undefined)
    return {
      placement: {
        payload: { kind: 'single', url: req.url },
        output: req.url_out ?? outputUrlFor(req.url),
        location: 'url',
      },
      ...kept,
    };
  const { payload: ref, set } = objects!;
  if (req.payloads !== undefined) {
    const bodies = req.payloads.map((p) => JSON.stringify(p));
    const placement: Placement = {
      payload: { kind: 'set', url: set.url, itemCount: bodies.length, itemsPerJob: perJob },
      output: req.url_out ?? set.url_out,
      location: 'set',
      size: bodies.reduce((n, b) => n + Buffer.byteLength(b, 'utf8'), 0),
      writes: { kind: 'items', set, bodies },
    };
    return { placement, objects };
  }
  const body = JSON.stringify(req.payload);
  const size = Buffer.byteLength(body, 'utf8');
  const output = req.url_out ?? ref.url_out;
  const placement: Placement =
    config.inlinePayloadLimit > 0 && size <= config.inlinePayloadLimit
      ? { payload: { kind: 'single', url: inlinePayloadUrl(body) }, output, location: 'inline', size }
      : {
          payload: { kind: 'single', url: ref.url },
          output,
          location: 's3',
          size,
          writes: { kind: 'payload', ref, body },
        };
  return { placement, objects };
}

/**
 * The request's job: its name, its payload placed, the plan checked (lib/job-plan.ts) and put on the wire, with the
 * answer it gets (lib/job-wire.ts).
 */
export function planJob(
  req: BatchJobRequest,
  fn: TargetFunction,
  image: JobImage,
  checked: CheckedJob,
  config: DispatcherConfig,
): PlannedJob {
  const name = req.name ?? jobNameFor(fn.name, fn.qualifier);
  const { placement, objects } = place(req, checked, fn.name, config);
  const plan = parseJobPlan({
    function: fn.jobArn,
    payload: placement.payload,
    output: placement.output,
    name,
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
    ...planOnTheWire(plan),
    ...(objects ? { dispatchRecord: objects.dispatchRecord } : {}),
  };
}
