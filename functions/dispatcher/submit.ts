// SubmitJob without duplicate jobs: answered failures are retried here; a lost answer is looked up, never resent.
import {
  type BatchClient,
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  type SubmitJobCommandInput,
} from '@aws-sdk/client-batch';

/** Tries for SubmitJob answered with a server error or throttling (Batch did not take the job). */
export const SUBMIT_ATTEMPTS = 3;
const RETRY_DELAY_MS = 100;
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

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/** An answer a second try may change: a server error or throttling. */
function worthRetrying(err: SdkError): boolean {
  const status = err.$metadata?.httpStatusCode ?? 0;
  return status >= 500 || status === 429 || /Throttl|TooManyRequests/.test(err.name ?? '');
}

/**
 * Submits `input` once per answered failure, up to SUBMIT_ATTEMPTS. Batch's SubmitJob has no idempotency token,
 * so a request whose answer never came (connection lost after it was sent, a timeout) is not sent again: the
 * job may exist. It is looked for instead (ListJobs by name, then the parameters, which carry the payload's
 * unique URL). The `batch` client must not retry by itself (maxAttempts: 1), or it would resend such requests.
 */
export async function submitJob(
  batch: BatchClient,
  input: SubmitJobCommandInput,
  now: () => number = Date.now,
): Promise<SubmitOutcome> {
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await batch.send(new SubmitJobCommand(input));
      if (!out.jobId) return { kind: 'refused', error: new Error('SubmitJob returned no jobId') };
      return { kind: 'submitted', jobId: out.jobId };
    } catch (err) {
      const e = err as SdkError & Error;
      const status = e.$metadata?.httpStatusCode;
      // No answer at all, or a 2xx whose body was cut (the SDK then fails to parse it): the job may exist.
      if (status === undefined || status < 300) {
        const jobId = await findSubmitted(batch, input, started).catch(() => undefined);
        return jobId ? { kind: 'found', jobId } : { kind: 'unknown', error: e };
      }
      if (attempt >= SUBMIT_ATTEMPTS || !worthRetrying(e)) return { kind: 'refused', error: e };
      await new Promise((r) => setTimeout(r, RETRY_DELAY_MS * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
  }
}

async function findSubmitted(
  batch: BatchClient,
  input: SubmitJobCommandInput,
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
