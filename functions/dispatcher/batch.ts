// A job's SubmitJob input to Batch, under the rate limit and without ever making two jobs; and finding the job a
// SubmitJob made when its answer was lost.
import {
  type BatchClient,
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  type SubmitJobCommandInput,
} from '@aws-sdk/client-batch';
import { isAnsweredRetryable, isThrottling, isUnanswered, sendOrFind, withRetries } from '../../lib/retry.js';
import { type Clock, type RateLimiter, realClock } from './rate-limit.js';

/** Tries for a SubmitJob answered with a server error (Batch did not take the job). */
export const SUBMIT_ATTEMPTS = 3;
/** Tries for a throttled SubmitJob (429 / TooManyRequestsException): Batch's limit is per account, shared with others. */
export const THROTTLED_ATTEMPTS = 6;
const RETRY_DELAY_MS = 100;
const THROTTLE_DELAY_MS = 250;
const THROTTLE_DELAY_CAP_MS = 8000;
/** ListJobs pages read when looking for a job whose SubmitJob answer was lost. */
const LOOKUP_PAGES = 5;
/** Clock skew allowed between this Lambda and Batch when judging a job's creation time. */
const SKEW_MS = 60_000;

export type SubmitOutcome =
  | { kind: 'submitted'; jobId: string }
  /** the answer was lost but the job exists: found by name and parameters */
  | { kind: 'found'; jobId: string }
  /** the server answered with an error: no job was made */
  | { kind: 'refused'; error: Error }
  /** no answer, and the job could not be found: it may or may not exist */
  | { kind: 'unknown'; error: Error };

export interface SubmitOptions {
  limiter: RateLimiter;
  clock?: Clock;
  random?: () => number;
}

/**
 * Submits `input` once per answered failure (server errors up to SUBMIT_ATTEMPTS, throttling up to
 * THROTTLED_ATTEMPTS with full-jitter backoff), each try under the rate limit. Batch's SubmitJob has no
 * idempotency token, so a request whose answer never came (connection lost after it was sent, a timeout) is
 * not sent again: the job may exist. It is looked for instead (ListJobs by name, then the parameters, which
 * carry the payload's unique URL). The `batch` client must not retry by itself (maxAttempts: 1).
 */
export async function submitJob(
  batch: BatchClient,
  input: SubmitJobCommandInput,
  options: SubmitOptions,
): Promise<SubmitOutcome> {
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const started = Date.now();
  const send = async () => {
    await options.limiter.take();
    const out = await batch.send(new SubmitJobCommand(input));
    if (!out.jobId) throw new NoJobIdError('SubmitJob returned no jobId');
    return out.jobId;
  };
  // No answer at all, or a 2xx whose body was cut (the SDK then fails to parse it): the job may exist.
  const uncertain = (e: unknown) => !(e instanceof NoJobIdError) && isUnanswered(e);
  const find = () => findSubmitted(batch, input, started);
  try {
    const { how, value } = await withRetries(() => sendOrFind(send, find, uncertain), {
      attempts: THROTTLED_ATTEMPTS,
      baseDelayMs: RETRY_DELAY_MS,
      retryable: (e, attempt) =>
        isAnsweredRetryable(e) && attempt < (isThrottling(e) ? THROTTLED_ATTEMPTS : SUBMIT_ATTEMPTS),
      delayMs: (attempt, e) =>
        isThrottling(e)
          ? random() * Math.min(THROTTLE_DELAY_CAP_MS, THROTTLE_DELAY_MS * 2 ** attempt)
          : RETRY_DELAY_MS * 2 ** (attempt - 1) * (0.5 + random()),
      sleep: (ms) => clock.sleep(ms),
    });
    return { kind: how === 'sent' ? 'submitted' : 'found', jobId: value };
  } catch (err) {
    return { kind: uncertain(err) ? 'unknown' : 'refused', error: err as Error };
  }
}

/** Batch answered SubmitJob without a job id: it made no job that can be found or answered. */
class NoJobIdError extends Error {
  override name = 'NoJobIdError';
}

/** Finds the job a SubmitJob like `input` made since `since` (ms epoch); undefined when there is none. */
export type FindJob = (
  input: Pick<SubmitJobCommandInput, 'jobQueue' | 'jobName' | 'parameters'>,
  since: number,
) => Promise<string | undefined>;

/** findSubmitted on one client: what an idempotency claim uses to look for an abandoned claim's job. */
export function jobFinder(batch: BatchClient): FindJob {
  return (input, since) => findSubmitted(batch, input, since);
}

/** The job a SubmitJob like `input` made since `since` (ms epoch), by name, then by its parameters. */
export async function findSubmitted(
  batch: BatchClient,
  input: Pick<SubmitJobCommandInput, 'jobQueue' | 'jobName' | 'parameters'>,
  since: number,
): Promise<string | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < LOOKUP_PAGES; page++) {
    const list = await batch.send(
      new ListJobsCommand({
        jobQueue: input.jobQueue,
        filters: [{ name: 'JOB_NAME', values: [input.jobName ?? ''] }],
        maxResults: 100,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    const ids = (list.jobSummaryList ?? [])
      .filter((j) => j.jobId && (j.createdAt ?? since) >= since - SKEW_MS)
      .map((j) => j.jobId as string);
    if (ids.length > 0) {
      const { jobs } = await batch.send(new DescribeJobsCommand({ jobs: ids }));
      const mine = jobs?.find((j) => sameParameters(input.parameters ?? {}, j.parameters ?? {}));
      if (mine?.jobId) return mine.jobId;
    }
    nextToken = list.nextToken;
    if (!nextToken) return undefined;
  }
  return undefined;
}

/** Every parameter we sent is on the job (the definition may add defaults of its own). */
function sameParameters(sent: Record<string, string>, job: Record<string, string>): boolean {
  return Object.entries(sent).every(([k, v]) => job[k] === v);
}
