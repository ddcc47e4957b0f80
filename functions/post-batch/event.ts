// What post-batch is handed, sorted into one of three inputs (docs/step-functions.md "What post-batch takes").
import { parseJsonText } from '../../lib/json-text.js';
import { InvalidEventError, namedError } from './errors.js';
import { type JobView, jobView } from './job.js';

export type PostBatchInput =
  /** the job description: batch:submitJob.sync's output, or the Cause of its States.TaskFailed */
  | { kind: 'job'; job: JobView }
  /** `{job_id}` (a dispatcher answer too): post-batch asks DescribeJobs */
  | { kind: 'job_id'; jobId: string }
  /** a caught error that is not a job's failure (SubmitJob refused, a timeout): thrown again under its own name */
  | { kind: 'error'; error: Error };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const MAX_CAUSE = 4000;

/** A Catch's error output: `{Error, Cause}`, alone (ResultPath/Output `$`) or under `error` (as Cirrus puts it). */
function caughtError(event: Obj): Obj | undefined {
  if (isObj(event.error) && ('Error' in event.error || 'Cause' in event.error)) return event.error;
  if ('Error' in event && 'Cause' in event) return event;
  return undefined;
}

/**
 * A Cause that starts as JSON but is not: a job description cut short (Step Functions keeps the first 32,768
 * characters of a Cause). Its job id is read from it when it holds exactly one, and the job is described afresh;
 * otherwise it is refused without a word of it (it holds the job's parameters, an inline payload among them).
 */
function fromCutCause(cause: string, fault: unknown): PostBatchInput {
  const ids = new Set([...cause.matchAll(/"[Jj]obId"\s*:\s*"([A-Za-z0-9:_-]{1,128})"/g)].map((m) => m[1]!));
  if (ids.size === 1) return { kind: 'job_id', jobId: [...ids][0]! };
  throw new InvalidEventError(
    `error.Cause: starts as JSON but is ${(fault as Error).message}, and names ${ids.size === 0 ? 'no' : 'more than one'} job id to read the job by`,
  );
}

function fromCaught(caught: Obj): PostBatchInput {
  const name = caught.Error;
  if (typeof name !== 'string' || name === '')
    throw new InvalidEventError('error.Error: must be the caught error name (a non-empty string)');
  const cause = caught.Cause;
  let parsed: unknown;
  if (typeof cause === 'string') {
    try {
      parsed = parseJsonText(cause);
    } catch (err) {
      // Causes of SubmitJob errors are plain text ("Too Many Requests (Service: AWSBatch; …)"), passed on below.
      if (/^\s*[{[]/.test(cause)) return fromCutCause(cause, err);
    }
  }
  const job = jobView(parsed);
  if (job) return { kind: 'job', job };
  const inner = isObj(parsed) && typeof parsed.errorMessage === 'string' ? parsed.errorMessage : undefined;
  const text = inner ?? (typeof cause === 'string' && cause !== '' ? cause : 'no cause given');
  return {
    kind: 'error',
    error: namedError(name, text.length > MAX_CAUSE ? `${text.slice(0, MAX_CAUSE)}…` : text),
  };
}

/** Sorts the event; anything else is an InvalidEventError that names the keys it saw (never their values). */
export function parseEvent(event: unknown): PostBatchInput {
  if (!isObj(event))
    throw new InvalidEventError(
      `the event must be a JSON object, got ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`,
    );
  const caught = caughtError(event);
  if (caught) return fromCaught(caught);
  const job = jobView(event);
  if (job) return { kind: 'job', job };
  if ('job_id' in event) {
    const id = event.job_id;
    if (typeof id !== 'string' || id.trim() === '')
      throw new InvalidEventError(
        `job_id: must be a non-empty string, got ${JSON.stringify(id) ?? typeof id}`,
      );
    return { kind: 'job_id', jobId: id };
  }
  const keys = Object.keys(event).slice(0, 10);
  throw new InvalidEventError(
    'the event must be a Batch job description (the output of batch:submitJob.sync), a caught error ' +
      `{Error, Cause} (alone or as "error"), or {job_id}; got ${keys.length ? `keys ${keys.join(', ')}` : 'an empty object'}`,
  );
}
