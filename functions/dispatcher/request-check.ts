// What a request is refused for before any AWS call (no queue; no payload bucket where the request needs one), and
// what the check settles for the steps after it: the job queue, the payload bucket, and the key that guards against
// a second job with the id that names its objects.
import { randomUUID } from 'node:crypto';
import { InvalidRequestError } from '../../lib/errors.js';
import { objectIdFor } from '../../lib/object-id.js';
import type { BatchJobRequest } from '../../lib/request.js';
import { type DispatcherConfig, payloadBucket, withStackPrefix } from './config.js';

export interface CheckedRequest {
  /** The job queue: the request's (with the stack prefix when bare), else JOB_QUEUE. */
  queue: string;
  /** The idempotency key: the request's, else the default (an SQS message id) where records can be kept. */
  key: string | undefined;
  /** The key as errors name it: quoted and cut, and said to be the message id when it is. */
  keyNamed: string | undefined;
  /** What names the job's objects: the key as it is when it can be (a request's own key always can), else encoded
   * (lib/object-id.ts), else a fresh id. */
  objectId: string;
  /** The payload bucket; set whenever the request needs one (else it was refused here). */
  bucket: string | undefined;
}

/** Refuses what can be refused without AWS; else what the later steps go by. */
export function checkRequest(
  req: BatchJobRequest,
  config: DispatcherConfig,
  defaultKey: string | undefined,
  newId: () => string = randomUUID,
): CheckedRequest {
  const queue = req.queue === undefined ? config.jobQueue : withStackPrefix(req.queue, config.cirrusStack);
  if (queue === undefined)
    throw new InvalidRequestError('queue: is required when the dispatcher has no JOB_QUEUE');
  const needsBucket =
    req.payload !== undefined
      ? 'for requests with a payload'
      : req.payloads !== undefined
        ? 'for payloads'
        : req.idempotency_key !== undefined && !req.plan
          ? 'to keep idempotency records'
          : undefined;
  if (needsBucket) payloadBucket(config, needsBucket);
  const key = req.idempotency_key ?? (config.payloadBucket ? defaultKey : undefined);
  const keyNamed =
    key === undefined
      ? undefined
      : `${JSON.stringify(key.slice(0, 130))}${req.idempotency_key === undefined ? ' (the SQS message id)' : ''}`;
  const objectId = key !== undefined ? objectIdFor(key) : newId();
  return { queue, key, keyNamed, objectId, bucket: config.payloadBucket };
}
