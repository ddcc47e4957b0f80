// One request → one Batch job: check, plan, claim the idempotency key, store the payload(s), submit; undo on refusal.
import { randomUUID } from 'node:crypto';
import type { BatchClient } from '@aws-sdk/client-batch';
import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidRequestError, SubmitJobError } from '../../lib/errors.js';
import { arraySize } from '../../lib/item-set.js';
import type { JobPlan } from '../../lib/job-plan.js';
import { submitJobInput } from '../../lib/job-wire.js';
import type { JsonLogger } from '../../lib/logger.js';
import { objectIdFor } from '../../lib/object-id.js';
import {
  deleteObject,
  deleteObjects,
  itemKey,
  putItems,
  putObject,
  recordKey,
} from '../../lib/payload-store.js';
import type { BatchJobAnswer, BatchJobPlanAnswer, BatchJobRequest } from '../../lib/request.js';
import { submitJob, withStackPrefix } from './batch.js';
import type { DispatcherConfig } from './config.js';
import { checkAllowed, type FunctionLookup, type OwnAccount, qualifyFunction } from './functions.js';
import { type Claim, claim, complete, newRecord, release, requestSha256 } from './idempotency.js';
import { functionImageJob } from './image-job.js';
import { chooseDefinition, type Placement, payloadBucket, place, planJob } from './plan.js';
import type { Clock, RateLimiter } from './rate-limit.js';

export interface DispatchDeps {
  s3: S3Client;
  /** must not retry by itself (maxAttempts: 1): SubmitJob is not idempotent, batch.ts retries what is safe */
  batch: BatchClient;
  lookup: FunctionLookup;
  config: DispatcherConfig;
  /** ARN globs in force for this invocation (ALLOWED_FUNCTIONS or the own-account default). */
  allowed: string[];
  /** The dispatcher's own account and region (what a bare function name means); unknown outside Lambda. */
  own: OwnAccount | undefined;
  log: JsonLogger;
  limiter: RateLimiter;
  clock?: Clock;
  /** The key when the request gives none (an SQS record's message id); used only where records can be kept. */
  defaultKey?: string;
  /** How long this invocation may still run (ms): an idempotency claim is abandoned after it. */
  remainingMs?: number;
  newId?: () => string;
}

/** Lambda's longest run; the lease of a claim when the invocation's own deadline is unknown. */
const MAX_LAMBDA_MS = 15 * 60 * 1000;
const LEASE_MARGIN_MS = 10_000;

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
          array_size: arraySize(p.itemCount, p.itemsPerJob),
        }
      : {}),
  };
}

/** Writes what the placement needs; returns a remover for exactly what may have landed. */
async function store(deps: DispatchDeps, placement: Placement): Promise<() => Promise<void>> {
  const { s3 } = deps;
  if (placement.single) {
    const { ref, body } = placement.single;
    const remove = () => deleteObject(s3, ref);
    try {
      await putObject(s3, ref, body);
    } catch (err) {
      // The write may have landed with only its answer lost; the key is this dispatch's, so removing it is safe.
      await remove().catch(() => {});
      throw err;
    }
    return remove;
  }
  if (placement.items) {
    const { set, bodies } = placement.items;
    const remove = () =>
      deleteObjects(
        s3,
        set.bucket,
        bodies.map((_, i) => itemKey(set, i)),
      );
    try {
      await putItems(s3, set, bodies);
    } catch (err) {
      await remove().catch(() => {});
      throw err;
    }
    return remove;
  }
  return async () => {};
}

export async function dispatch(
  req: BatchJobRequest,
  deps: DispatchDeps,
): Promise<BatchJobAnswer | BatchJobPlanAnswer> {
  const { config } = deps;
  // Everything that can be refused without AWS is refused before any call is made.
  const queue = req.queue ?? config.jobQueue;
  if (queue === undefined)
    throw new InvalidRequestError('queue: is required when the dispatcher has no JOB_QUEUE');
  if (req.payload !== undefined) payloadBucket(config, 'for requests with a payload');
  if (req.payloads !== undefined) payloadBucket(config, 'for payloads');
  if (req.idempotency_key !== undefined && !req.plan) payloadBucket(config, 'to keep idempotency records');
  const key = req.idempotency_key ?? (config.payloadBucket ? deps.defaultKey : undefined);

  // The allow-list is checked on the ARN the request means, before anything is looked up.
  const ref = qualifyFunction(req.lambda_function, deps.own);
  checkAllowed(ref, deps.allowed);
  const fn = await deps.lookup(ref);
  const log = deps.log.child({ lambda_function: fn.jobArn, idempotency_key: key });
  const { image, reason } =
    fn.packageType === 'Image'
      ? await functionImageJob(req, fn, deps, log)
      : chooseDefinition(fn, req.image, config);
  log.debug('image chosen', {
    image: image.flavour,
    ...(image.kind === 'definition' ? { runtime: image.runtime } : { function_image: image.image }),
    reason,
  });

  // The key names the objects: as it is when it can (a request's own key always can), else encoded (object-id.ts).
  const id = key !== undefined ? objectIdFor(key) : (deps.newId?.() ?? randomUUID());
  const placement = place(req, fn, config, id);
  const plan = planJob(req, fn, image, placement, withStackPrefix(queue, config.cirrusStack), key);
  const input = submitJobInput(plan);
  const planned = answerOf(plan);

  let owned: Extract<Claim, { kind: 'owned' }> | undefined;
  if (key !== undefined && !req.plan) {
    const at = { bucket: config.payloadBucket!, key: recordKey(config.payloadPrefix, fn.name, id) };
    const lease = (deps.remainingMs ?? MAX_LAMBDA_MS) + LEASE_MARGIN_MS;
    const mine = newRecord(
      {
        request_sha256: requestSha256(req),
        submit: { jobName: plan.name, jobQueue: plan.queue, parameters: { ...input.parameters } },
        answer: planned,
      },
      Date.now(),
      lease,
    );
    const named = `${JSON.stringify(key.slice(0, 130))}${req.idempotency_key === undefined ? ' (the SQS message id)' : ''}`;
    const c = await claim(deps.s3, deps.batch, at, mine, named);
    if (c.kind === 'done') {
      log.info('idempotent request answered from its record', { job_id: c.answer.job_id, how: c.how });
      return c.answer;
    }
    owned = c;
  }
  const releaseKey = async () => {
    if (owned)
      await release(deps.s3, owned.at).catch((e: unknown) =>
        log.warn('could not release the key', { error: e }),
      );
  };

  let removeStored: () => Promise<void>;
  try {
    removeStored = await store(deps, placement);
  } catch (err) {
    await releaseKey();
    throw err;
  }
  log.debug('payload placed', {
    payload_location: placement.location,
    payload_size: placement.size,
    payload: req.payload ?? req.payloads,
  });
  if (req.plan) {
    log.info('job planned', { job_name: plan.name, job_queue: plan.queue, url_out: plan.output });
    return { ...planned, submit_job: input as unknown as Record<string, unknown> };
  }

  // An inline payload's URL is the payload itself (base64): log lines name its place, never its text.
  const shownUrl = placement.location === 'inline' ? 'data:…' : plan.payload.url;
  const outcome = await submitJob(deps.batch, input, {
    limiter: deps.limiter,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  if (outcome.kind === 'unknown') {
    // The job may exist: removing its payload could leave a job without one. The objects expire with the prefix;
    // the key's claim stays, so a retry after its lease looks for the job before submitting again.
    log.error('SubmitJob outcome unknown; the payload is kept', { error: outcome.error, url: shownUrl });
    throw new SubmitJobError(
      `SubmitJob's answer was lost and the job was not found (queue ${plan.queue}, name ${plan.name}): it may have been submitted; ${placement.location === 's3' || placement.location === 'set' ? `its payload stays at ${plan.payload.url}` : 'nothing was removed'}: ${outcome.error.message}`,
      { cause: outcome.error },
    );
  }
  if (outcome.kind === 'refused') {
    await removeStored().catch((delErr: unknown) =>
      log.warn('could not remove the payload of a job that was not submitted', {
        error: delErr,
        url: shownUrl,
      }),
    );
    await releaseKey();
    throw new SubmitJobError(
      `SubmitJob failed (queue ${plan.queue}, definition ${plan.image.jobDefinition}): ${outcome.error.message}`,
      { cause: outcome.error },
    );
  }
  const answer: BatchJobAnswer = { job_id: outcome.jobId, ...planned };
  if (outcome.kind === 'found')
    log.warn('SubmitJob answer was lost; found the job it made', { job_id: outcome.jobId });
  if (owned)
    await complete(deps.s3, owned.at, owned.record, answer).catch((err: unknown) =>
      // The job exists; a repeat after the lease finds it in Batch instead of the record.
      log.warn('could not record the answer for the idempotency key', { error: err }),
    );

  log.info('job submitted', {
    job_id: answer.job_id,
    job_name: answer.job_name,
    job_queue: answer.job_queue,
    job_definition: answer.job_definition,
    image: answer.image,
    ...(plan.image.kind === 'definition'
      ? { runtime: plan.image.runtime }
      : { function_image: plan.image.image }),
    payload_size: placement.size,
    payload_location: placement.location,
    item_count: answer.item_count,
    array_size: answer.array_size,
    url: shownUrl,
    url_out: answer.url_out,
  });
  return answer;
}
