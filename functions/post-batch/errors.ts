// post-batch's errors. `name` is what Lambda reports as errorType, and so what a Step Functions Catch matches.

/** Base of the errors post-batch itself raises (not the function's own, which keep the record's errorType). */
export class PostBatchError extends Error {
  override name = 'PostBatchError';
}

/** The event is none of the shapes post-batch takes (a job description, a caught error, `{job_id}`). */
export class InvalidEventError extends PostBatchError {
  override name = 'InvalidEventError';
}

/** DescribeJobs does not know the job id (wrong id, or older than Batch keeps jobs: about 7 days). */
export class JobNotFoundError extends PostBatchError {
  override name = 'JobNotFoundError';
}

/** The job has not ended yet (asked with `{job_id}` while it is queued or running): a Retry can wait for it. */
export class JobNotFinishedError extends PostBatchError {
  override name = 'JobNotFinishedError';
}

/** The job was not made by the dispatcher: no `url_out` parameter, an output that is not s3://, no item count. */
export class InvalidJobError extends PostBatchError {
  override name = 'InvalidJobError';
}

/** The record says succeeded but the result is not at `url_out`. */
export class ResultMissingError extends PostBatchError {
  override name = 'ResultMissingError';
}

/** The object at `url_out` is not the one the record describes (other bytes: a later run overwrote it). */
export class ResultMismatchError extends PostBatchError {
  override name = 'ResultMismatchError';
}

/** The result is not JSON, so it cannot be handed to the next state. */
export class ResultNotJsonError extends PostBatchError {
  override name = 'ResultNotJsonError';
}

/** S3 or Batch refused or failed a read (access denied, throttling, 5xx) */
export class ReadError extends PostBatchError {
  override name = 'ReadError';
}

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
