// One request → one Batch job: check, choose the image, place the payload, submit; undo the payload write if Batch refuses.
import type { BatchClient } from '@aws-sdk/client-batch';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../../lib/env.js';
import { InvalidRequestError, SubmitJobError } from '../../lib/errors.js';
import type { JsonLogger } from '../../lib/logger.js';
import {
  deletePayload,
  inlinePayloadUrl,
  type PayloadRef,
  payloadRef,
  putPayload,
} from '../../lib/payload-store.js';
import type { BatchJobAnswer, BatchJobRequest } from '../../lib/request.js';
import { outputUrlFor } from '../../lib/s3-url.js';
import type { DispatcherConfig } from './config.js';
import { checkAllowed, type FunctionLookup, type OwnAccount, qualifyFunction } from './functions.js';
import { chooseImage } from './image.js';
import { jobNameFor, submitJobInput, withStackPrefix } from './job.js';
import { submitJob } from './submit.js';

export interface DispatchDeps {
  s3: S3Client;
  /** must not retry by itself (maxAttempts: 1): SubmitJob is not idempotent, submit.ts retries what is safe */
  batch: BatchClient;
  lookup: FunctionLookup;
  config: DispatcherConfig;
  /** ARN globs in force for this invocation (ALLOWED_FUNCTIONS or the own-account default). */
  allowed: string[];
  /** The dispatcher's own account and region (what a bare function name means); unknown outside Lambda. */
  own: OwnAccount | undefined;
  log: JsonLogger;
  newId?: () => string;
}

interface Placement {
  url: string;
  url_out: string;
  location: 'inline' | 's3' | 'url';
  size?: number;
  /** Set when this dispatch wrote the object, so a failed submit can remove it. */
  written?: PayloadRef;
}

function payloadBucket(config: DispatcherConfig): string {
  if (!config.payloadBucket)
    throw new ConfigError(
      'PAYLOAD_BUCKET (or CIRRUS_PAYLOAD_BUCKET) is required for requests with a payload',
    );
  return config.payloadBucket;
}

async function placePayload(
  req: BatchJobRequest,
  functionName: string,
  deps: DispatchDeps,
): Promise<Placement> {
  if (req.url !== undefined)
    return { url: req.url, url_out: req.url_out ?? outputUrlFor(req.url), location: 'url' };
  const { config } = deps;
  const json = JSON.stringify(req.payload);
  const size = Buffer.byteLength(json, 'utf8');
  const ref = payloadRef(
    { bucket: payloadBucket(config), prefix: config.payloadPrefix },
    functionName,
    deps.newId?.(),
  );
  const url_out = req.url_out ?? ref.url_out;
  if (config.inlinePayloadLimit > 0 && size <= config.inlinePayloadLimit)
    return { url: inlinePayloadUrl(json), url_out, location: 'inline', size };
  try {
    await putPayload(deps.s3, ref, json);
  } catch (err) {
    // The write may have landed with only its answer lost; the key is fresh, so removing it is always safe.
    await deletePayload(deps.s3, ref).catch(() => {});
    throw err;
  }
  return { url: ref.url, url_out, location: 's3', size, written: ref };
}

export async function dispatch(req: BatchJobRequest, deps: DispatchDeps): Promise<BatchJobAnswer> {
  const { config } = deps;
  // Everything that can be refused without AWS is refused before any call is made.
  const queue = req.queue ?? config.jobQueue;
  if (queue === undefined)
    throw new InvalidRequestError('queue: is required when the dispatcher has no JOB_QUEUE');
  if (req.payload !== undefined) payloadBucket(config);
  const jobQueue = withStackPrefix(queue, config.cirrusStack);

  // The allow-list is checked on the ARN the request means, before anything is looked up.
  const ref = qualifyFunction(req.lambda_function, deps.own);
  checkAllowed(ref, deps.allowed);
  const fn = await deps.lookup(ref);
  const log = deps.log.child({ lambda_function: fn.jobArn });

  const { image, reason } = chooseImage(req.image, fn, config.geoLayerPattern);
  log.debug('image chosen', { image, reason });
  const jobDefinition = withStackPrefix(config.jobDefinitions[image], config.cirrusStack);
  const jobName = req.name ?? jobNameFor(fn.name, fn.qualifier);

  const place = await placePayload(req, fn.name, deps);
  log.debug('payload placed', {
    payload_location: place.location,
    payload_size: place.size,
    payload: req.payload,
  });
  const input = submitJobInput({
    jobName,
    jobQueue,
    jobDefinition,
    parameters: { lambda_function: fn.jobArn, url: place.url, url_out: place.url_out },
    options: req,
  });

  const outcome = await submitJob(deps.batch, input);
  if (outcome.kind === 'unknown') {
    // The job may exist: removing its payload could leave a job without one. The object expires with the prefix.
    log.error('SubmitJob outcome unknown; the payload is kept', { error: outcome.error, url: place.url });
    throw new SubmitJobError(
      `SubmitJob's answer was lost and the job was not found (queue ${jobQueue}, name ${jobName}): it may have been submitted; ${place.written ? `its payload stays at ${place.url}` : 'nothing was removed'}: ${outcome.error.message}`,
      { cause: outcome.error },
    );
  }
  if (outcome.kind === 'refused') {
    if (place.written) {
      await deletePayload(deps.s3, place.written).catch((delErr: unknown) =>
        log.warn('could not remove the payload of a job that was not submitted', {
          error: delErr,
          url: place.url,
        }),
      );
    }
    throw new SubmitJobError(
      `SubmitJob failed (queue ${jobQueue}, definition ${jobDefinition}): ${outcome.error.message}`,
      { cause: outcome.error },
    );
  }
  const { jobId } = outcome;
  if (outcome.kind === 'found')
    log.warn('SubmitJob answer was lost; found the job it made', { job_id: jobId });

  log.info('job submitted', {
    job_id: jobId,
    job_name: jobName,
    job_queue: jobQueue,
    job_definition: jobDefinition,
    image,
    payload_size: place.size,
    payload_location: place.location,
    url: place.location === 'inline' ? 'data:…' : place.url,
    url_out: place.url_out,
  });
  return {
    job_id: jobId,
    job_name: jobName,
    job_queue: jobQueue,
    job_definition: jobDefinition,
    image,
    url: place.url,
    url_out: place.url_out,
  };
}
