// What a request is refused for before any AWS call (no queue; no payload bucket where the request needs one), and
// what the check settles for the steps after it: the job queue, and the key that names its objects and guards
// against a second job.
import { InvalidRequestError } from '../../lib/errors.js';
import type { BatchJobRequest } from '../../lib/request.js';
import { type DispatcherConfig, payloadBucket, withStackPrefix } from './config.js';

export interface CheckedRequest {
  /** The job queue: the request's (with the stack prefix when bare), else JOB_QUEUE. */
  queue: string;
  /** The idempotency key: the request's, else the default (an SQS message id) where records can be kept. */
  key: string | undefined;
  /** The key as errors name it: quoted and cut, and said to be the message id when it is. */
  keyNamed: string | undefined;
}

/** Refuses what can be refused without AWS; else what the later steps go by. */
export function checkRequest(
  req: BatchJobRequest,
  config: DispatcherConfig,
  defaultKey: string | undefined,
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
  return { queue, key, keyNamed };
}
