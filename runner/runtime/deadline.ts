// The deadline each invocation gets (Lambda-Runtime-Deadline-Ms, and the runner's own timer): the sooner of its own
// --timeout and the job's end (--job-timeout, Batch's attempt duration) less the room the runner needs after the
// handler returns, so that getRemainingTimeInMillis() never promises time Batch will not give.

/**
 * Without --timeout or --job-timeout nothing is enforced, but handlers still need a deadline to compute the remaining
 * time from: they see one 24 h away (longer than any Batch job is likely to be meant to run, and finite).
 */
export const NO_TIMEOUT_DEADLINE_MS = 24 * 3600 * 1000;

/**
 * Room kept at the job's end for what follows the handler: the result's upload (already on local disk; at S3's
 * in-region rates well over 100 MB/s, 10 s carry a result of about a gigabyte), the run record (one small PUT, with
 * a retry), ending the runtime's processes, and the skew between Batch's clock, which starts the attempt when the
 * task starts, and the runner's, which starts with its own process. A job that ran out then still ends as the runner
 * says (exit 124, its record written) before Batch's SIGTERM.
 */
export const JOB_END_MARGIN_MS = 10_000;

/** A short job (a local run with --job-timeout 8) keeps at most a quarter of its time for that room. */
export function jobEndMargin(jobTimeoutSeconds: number): number {
  return Math.min(JOB_END_MARGIN_MS, (jobTimeoutSeconds * 1000) / 4);
}

/** The job's budget as the runner keeps it: invocations must have ended by `endMs`. */
export interface JobClock {
  /** --job-timeout, as given */
  seconds: number;
  /** Epoch ms: the job's start plus its timeout, less the margin */
  endMs: number;
  marginMs: number;
}

/** The budget of a job that started at `startedMs` (epoch ms) and may run `seconds`. */
export function jobClock(startedMs: number, seconds: number): JobClock {
  const marginMs = jobEndMargin(seconds);
  // Whole milliseconds, as Lambda-Runtime-Deadline-Ms is (a process's start time has a fraction).
  return { seconds, endMs: Math.floor(startedMs + seconds * 1000 - marginMs), marginMs };
}

/**
 * One invocation's deadline (epoch ms) and what set it: its own --timeout, the job's end, or neither (then it is the
 * far deadline handlers see and nothing is enforced).
 */
export interface Deadline {
  ms: number;
  by: 'invocation' | 'job' | 'none';
}

/** The deadline of an invocation starting at `startedMs`: the sooner of its own timeout and the job's end. */
export function invocationDeadline(
  startedMs: number,
  timeoutSeconds: number | undefined,
  job: JobClock | undefined,
): Deadline {
  const own = timeoutSeconds === undefined ? undefined : Math.floor(startedMs + timeoutSeconds * 1000);
  if (job !== undefined && (own === undefined || job.endMs < own)) return { ms: job.endMs, by: 'job' };
  if (own !== undefined) return { ms: own, by: 'invocation' };
  return { ms: startedMs + NO_TIMEOUT_DEADLINE_MS, by: 'none' };
}

/** The words of a job that ran out (the last line's message, and the record's). */
export function jobOverMessage(job: JobClock, started: boolean): string {
  const what = started ? 'the invocation was ended' : 'no time was left to start the invocation';
  return `the job's time ran out (--job-timeout ${job.seconds} s, of which the last ${job.marginMs / 1000} s are kept to write the result and the record): ${what}`;
}
