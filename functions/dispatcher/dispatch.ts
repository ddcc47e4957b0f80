// One request → one Batch job, in named steps: check, resolve the function, read a redrive's index list, place the
// payload, choose the image, plan, claim the key, write the payload, then submit (or answer the plan) and record the
// answer; a refused job takes back what it wrote (docs/architecture.md "The path of a job").
import type { BatchClient } from '@aws-sdk/client-batch';
import type { S3Client } from '@aws-sdk/client-s3';
import { SubmitJobError } from '../../lib/errors.js';
import type { JsonLogger } from '../../lib/logger.js';
import { writePayloads } from '../../lib/payload-store.js';
import type {
  BatchJobAnswer,
  BatchJobPlanAnswer,
  BatchJobRequest,
  ParsedRequest,
} from '../../lib/request.js';
import { jobFinder, type SubmitOutcome, submitJob } from './batch.js';
import type { DispatcherConfig } from './config.js';
import { type FunctionLookup, type OwnAccount, resolveFunction } from './functions.js';
import { claimKey, type OwnedKey } from './idempotency.js';
import { readIndexList } from './item-indexes.js';
import { chooseJobImage } from './job-image.js';
import { jobQueueFor } from './job-queue.js';
import { place } from './place.js';
import { type PlannedJob, planJob } from './plan.js';
import type { Clock, RateLimiter } from './rate-limit.js';
import { checkRequest } from './request-check.js';

export interface DispatchOptions {
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

/** What the steps after the claim share: the job, the key's claim when there is one, the request's log. */
interface Claimed {
  job: PlannedJob;
  owned: OwnedKey | undefined;
  log: JsonLogger;
  options: DispatchOptions;
}

export async function dispatch(
  req: ParsedRequest,
  options: DispatchOptions,
): Promise<BatchJobAnswer | BatchJobPlanAnswer> {
  // Everything that can be refused without AWS is refused before any call is made; the allow-list before a lookup.
  const checked = checkRequest(req, options.config, options.defaultKey, options.newId);
  const fn = await resolveFunction(req.lambda_function, options);
  const log = options.log.child({ lambda_function: fn.jobArn, idempotency_key: checked.key });
  const queue = jobQueueFor(fn, req.queue, checked.queue, options.config);
  const list = await readIndexList(req, options.s3);
  const placed = place(req, checked, fn.name, list, options.config);
  const image = await chooseJobImage(req, fn, { ...options, log });
  const job = planJob(req, fn, image, placed, { ...checked, queue });
  const claim =
    checked.key === undefined || req.plan
      ? undefined
      : await claimKey(req, job, checked.keyNamed!, { ...options, log, findJob: jobFinder(options.batch) });
  if (claim?.kind === 'done') {
    log.info('idempotent request answered from its record', { job_id: claim.answer.job_id, how: claim.how });
    return claim.answer;
  }
  const claimed: Claimed = { job, owned: claim, log, options };
  const removeStored = await writePayloadsOf(req, claimed);
  if (req.plan) {
    log.info('job planned', { job_name: job.plan.name, job_queue: job.plan.queue, url_out: job.plan.output });
    return { ...job.answer, submit_job: job.input as unknown as Record<string, unknown> };
  }
  const outcome = await submitJob(options.batch, job.input, {
    limiter: options.limiter,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const answer = await answerOrUndo(outcome, removeStored, claimed);
  await claim?.complete(answer);
  return answer;
}

/** Writes the payload or the set's items; returns their remover. On a failure the key is given up. */
async function writePayloadsOf(req: BatchJobRequest, claimed: Claimed): Promise<() => Promise<void>> {
  const { placement } = claimed.job;
  let remove: () => Promise<void> = async () => {};
  try {
    if (placement.writes) remove = await writePayloads(claimed.options.s3, placement.writes);
  } catch (err) {
    await claimed.owned?.release();
    throw err;
  }
  claimed.log.debug('payload placed', {
    payload_location: placement.location,
    payload_size: placement.size,
    payload: req.payload ?? req.payloads,
  });
  return remove;
}

/** An inline payload's URL is the payload itself (base64): log lines name its place, never its text. */
function shownUrl(job: PlannedJob): string {
  return job.placement.location === 'inline' ? 'data:…' : job.plan.payload.url;
}

/**
 * The answer of a submitted (or found) job, logged. A refused one takes back its payload and its key; one whose outcome is
 * unknown keeps both (the job may exist: removing its payload could leave it without one; the objects expire with
 * the prefix, and a retry after the key's lease looks for the job before submitting again).
 */
async function answerOrUndo(
  outcome: SubmitOutcome,
  removeStored: () => Promise<void>,
  claimed: Claimed,
): Promise<BatchJobAnswer> {
  const { job, log } = claimed;
  const { plan, placement } = job;
  if (outcome.kind === 'unknown') {
    log.error('SubmitJob outcome unknown; the payload is kept', { error: outcome.error, url: shownUrl(job) });
    const kept =
      placement.location === 's3' || placement.location === 'set'
        ? `its payload stays at ${plan.payload.url}`
        : 'nothing was removed';
    throw new SubmitJobError(
      `SubmitJob's answer was lost and the job was not found (queue ${plan.queue}, name ${plan.name}): it may have been submitted; ${kept}: ${outcome.error.message}`,
      { cause: outcome.error },
    );
  }
  if (outcome.kind === 'refused') {
    await removeStored().catch((delErr: unknown) =>
      log.warn('could not remove the payload of a job that was not submitted', {
        error: delErr,
        url: shownUrl(job),
      }),
    );
    await claimed.owned?.release();
    throw new SubmitJobError(
      `SubmitJob failed (queue ${plan.queue}, definition ${plan.image.jobDefinition}): ${outcome.error.message}`,
      { cause: outcome.error },
    );
  }
  if (outcome.kind === 'found')
    log.warn('SubmitJob answer was lost; found the job it made', { job_id: outcome.jobId });
  const answer = { job_id: outcome.jobId, ...job.answer };
  logSubmitted(answer, claimed);
  return answer;
}

function logSubmitted(answer: BatchJobAnswer, { job, log }: Claimed): void {
  const { plan, placement } = job;
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
    ...(answer.item_indexes ? { item_indexes: answer.item_indexes } : {}),
    ...(answer.redrive_of ? { redrive_of: answer.redrive_of } : {}),
    url: shownUrl(job),
    url_out: answer.url_out,
  });
}
