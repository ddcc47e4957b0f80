// The dispatcher request the helper sends: the payload(s), only the job fields the caller set, and an idempotency
// key derived from the caller's request id, so a retried invocation asks for the same job.
import { createHash } from 'node:crypto';
import { InvalidRequestError } from '../../lib/errors.js';
import { type BatchJobRequest, JobOptionFields, type JobOptions } from '../../lib/request.js';

/**
 * How the job should run, and which dispatcher to ask. Every field is optional; the dispatcher's
 * configuration supplies the defaults.
 *
 * @example
 * ```ts
 * const options: BatchJobOptions = { queue: 'big-jobs', image: 'geolambda', vcpus: 4, memory: 16384, context };
 * ```
 */
export interface BatchJobOptions extends JobOptions {
  /** Dispatcher function name or ARN; default `BATCH_DISPATCHER_FUNCTION`. */
  dispatcher?: string;
  /** The dispatcher's `idempotency_key`; default derived from `context`'s request id and the request. */
  idempotencyKey?: string;
  /**
   * The calling Lambda's context: a retried invocation keeps its request id, so the key derived from it makes
   * the retry's submission answer with the first job instead of making a second.
   */
  context?: { awsRequestId: string };
}

/**
 * `JSON.stringify(value)`, or InvalidRequestError naming `payload` when it cannot be (a cycle, a BigInt): the
 * serializer's own message names the payload's property names, which a caller's error log line must not carry.
 */
export function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    const what = (err as Error).message.split(/[\n'"`]/)[0]!.trim();
    throw new InvalidRequestError(`payload: cannot be sent as JSON (${what})`);
  }
}

/**
 * The key of one submission: the caller's request id (kept by Lambda's retries of the invocation) and a
 * digest of the request, so one invocation's different submissions get different keys and a repeat the same.
 */
export function deriveIdempotencyKey(requestId: string, request: object): string {
  const digest = createHash('sha256').update(jsonOf(request)).digest('hex').slice(0, 16);
  return `${requestId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100)}-${digest}`;
}

/** The dispatcher request: the payload(s), only the job fields the caller set, and the idempotency key. */
export function buildRequest(
  body: { payload: unknown } | { payloads: unknown[] },
  functionArn: string,
  options: BatchJobOptions = {},
): BatchJobRequest {
  const request: Record<string, unknown> = { lambda_function: functionArn, ...body };
  for (const k of JobOptionFields) if (options[k] !== undefined) request[k] = options[k];
  const key =
    options.idempotencyKey ??
    (options.context?.awsRequestId ? deriveIdempotencyKey(options.context.awsRequestId, request) : undefined);
  if (key !== undefined) request.idempotency_key = key;
  return request as unknown as BatchJobRequest;
}
