// The error for a job that left no run record (its container never ran, or died unrecorded), named after Batch's reasons.
import { namedError } from './errors.js';
import type { JobView } from './job.js';

/**
 * First match wins, tried on the last attempt's container reason, then its status reason, then the job's.
 * ECS puts the failure's own name in front of a container reason ("CannotPullContainerError: …",
 * "ResourceInitializationError: …", "OutOfMemoryError: …"), so that name is kept as it is.
 */
export const StatusReasonNames: readonly { name: string; pattern: RegExp; example: string }[] = [
  {
    name: '$1',
    pattern: /^([A-Z][A-Za-z0-9]*(?:Error|Exception)):/,
    example: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
  },
  {
    name: 'HostTerminatedError',
    pattern: /^Host EC2 .*terminated/i,
    example: 'Host EC2 (instance i-0abc) terminated.',
  },
  {
    name: 'SpotInterruptedError',
    pattern: /Spot Task was interrupted/i,
    example: 'Your Spot Task was interrupted.',
  },
  {
    name: 'JobTimeoutError',
    pattern: /attempt duration exceeded timeout/i,
    example: 'Job attempt duration exceeded timeout',
  },
  { name: 'TaskFailedToStartError', pattern: /^Task failed to start/i, example: 'Task failed to start' },
  { name: 'DependencyFailedError', pattern: /^Dependent Job failed/i, example: 'Dependent Job failed' },
];

/** Used when no reason matches: the container exited (with a code) but wrote no record. */
export const CONTAINER_EXITED = 'ContainerExitedError';
/** Used when nothing more is known: the job failed (cancelled, terminated…) and its reason is in the message. */
export const JOB_FAILED = 'JobFailedError';

function describe(job: JobView): string {
  const last = job.attempts.at(-1);
  const parts: string[] = [];
  const seen = new Set<string>();
  const add = (label: string, v: string | number | undefined) => {
    if (v === undefined || seen.has(`${v}`)) return;
    seen.add(`${v}`);
    parts.push(`${label}: ${v}`);
  };
  add('status reason', job.statusReason);
  add('attempt', last?.statusReason);
  add('container', last?.containerReason ?? job.containerReason);
  const code = last?.exitCode ?? job.exitCode;
  if (code !== undefined) parts.push(`exit code ${code}`);
  const what = `job ${job.jobId}${job.jobName ? ` (${job.jobName})` : ''} ${(job.status ?? 'ended').toLowerCase()} without a run record`;
  return parts.length > 0 ? `${what}; ${parts.join('; ')}` : `${what}; Batch gave no reason`;
}

/** The error to throw for `job` when it left no record; its name says why, never an unhelpful "UnknownError". */
export function failureWithoutRecord(job: JobView): Error {
  const last = job.attempts.at(-1);
  const reasons = [last?.containerReason ?? job.containerReason, last?.statusReason, job.statusReason].filter(
    (r): r is string => r !== undefined,
  );
  const message = describe(job);
  for (const { name, pattern } of StatusReasonNames)
    for (const reason of reasons) {
      const m = pattern.exec(reason);
      if (m) return namedError(name === '$1' ? m[1]! : name, message);
    }
  const code = last?.exitCode ?? job.exitCode;
  return namedError(code !== undefined ? CONTAINER_EXITED : JOB_FAILED, message);
}
