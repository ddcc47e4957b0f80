// From a checked request, its function, its payload placed (place.ts) and its image to the job, all planned before
// anything is written: the job plan, its SubmitJob input and the answer the request will get (lib/job-wire.ts), and
// where its idempotency record goes.
import type { SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { type JobImage, type JobPlan, parseJobPlan } from '../../lib/job-plan.js';
import { planOnTheWire } from '../../lib/job-wire.js';
import { type BatchJobAnswer, type BatchJobRequest, BatchLimits, JOB_NAME } from '../../lib/request.js';
import type { S3Location } from '../../lib/s3-url.js';
import type { TargetFunction } from './functions.js';
import type { Placed, Placement } from './place.js';
import type { CheckedRequest } from './request-check.js';

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

/**
 * The request's job: its name, and its plan (with the payload as placed) checked (lib/job-plan.ts) and put on the wire,
 * with the answer it gets (lib/job-wire.ts).
 */
export function planJob(
  req: BatchJobRequest,
  fn: TargetFunction,
  image: JobImage,
  { placement, objects }: Placed,
  checked: CheckedRequest,
): PlannedJob {
  const name = req.name ?? jobNameFor(fn.name, fn.qualifier);
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
