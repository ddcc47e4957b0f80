// post-batch's errors. `name` is what Lambda reports as errorType, and so what a Step Functions Catch matches.
import { errorClass } from '../../lib/error-class.js';

/** Base of the errors post-batch itself raises (not the function's own, which keep the record's errorType). */
export class PostBatchError extends Error {
  override name = 'PostBatchError';
}

/** The event is none of the shapes post-batch takes (a job description, a caught error, `{job_id}`). */
export class InvalidEventError extends errorClass('InvalidEventError', PostBatchError) {}

/** DescribeJobs does not know the job id (wrong id, or older than Batch keeps jobs: about 7 days). */
export class JobNotFoundError extends errorClass('JobNotFoundError', PostBatchError) {}

/** The job has not ended yet (asked with `{job_id}` while it is queued or running): a Retry can wait for it. */
export class JobNotFinishedError extends errorClass('JobNotFinishedError', PostBatchError) {}

/** The job was not made by the dispatcher: no `url_out` parameter, an output that is not s3://, no item count. */
export class InvalidJobError extends errorClass('InvalidJobError', PostBatchError) {}

/** The record says succeeded but the result is not at `url_out`. */
export class ResultMissingError extends errorClass('ResultMissingError', PostBatchError) {}

/** The object at `url_out` is not the one the record describes (other bytes: a later run overwrote it). */
export class ResultMismatchError extends errorClass('ResultMismatchError', PostBatchError) {}

/** The result is not JSON, so it cannot be handed to the next state. */
export class ResultNotJsonError extends errorClass('ResultNotJsonError', PostBatchError) {}

/** S3 or Batch refused or failed a read (access denied, throttling, 5xx) */
export class ReadError extends errorClass('ReadError', PostBatchError) {}

/**
 * An error under any name: the function's own (the record's errorType, such as `ValueError` or
 * `cirrus.lib.errors.InvalidInput`), one named after Batch's status reason, or a Step Functions error passed on.
 */
export function namedError(name: string, message: string, stackTrace: string[] = []): Error {
  const err = new Error(message);
  err.name = name;
  // Lambda's Node runtime sends error.stack as the trace: the function's own frames say more than ours.
  err.stack = [`${name}: ${message}`, ...stackTrace.map((l) => l.replace(/\n+$/, ''))].join('\n');
  return err;
}
