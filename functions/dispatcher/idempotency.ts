// One job per idempotency key, with no database: the key is claimed by a lease (lib/s3-lease.ts) on a small record
// beside the payloads, which later holds the answer that every repeat of the request gets.
import { createHash, randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DispatchRecord } from '../../lib/dispatch-record.js';
import { IdempotencyInProgressError, InvalidRequestError } from '../../lib/errors.js';
import type { JsonLogger } from '../../lib/logger.js';
import type { BatchJobAnswer, BatchJobRequest } from '../../lib/request.js';
import { type Lease, leaseAt, leaseExpired } from '../../lib/s3-lease.js';
import { formatS3Url, type S3Location } from '../../lib/s3-url.js';
import type { FindJob } from './batch.js';
import type { PlannedJob } from './plan.js';

/** The record's shape is the job contract's (lambda-batch lists them): lib/dispatch-record.ts. */
export type { DispatchRecord } from '../../lib/dispatch-record.js';

/** Rounds of a claim whose record keeps vanishing under it before it gives up. */
const CLAIM_ROUNDS = 3;

export type Claim =
  | { kind: 'owned'; at: S3Location; record: DispatchRecord }
  | { kind: 'done'; answer: BatchJobAnswer; how: 'replayed' | 'found' };

/** The request's fingerprint: a key reused for a different request is refused, not answered with another job. */
export function requestSha256(request: object): string {
  // Neither `plan` nor what the parser added (the index list's place) is what the caller asked for.
  const { plan: _, indexListAt: _at, ...rest } = request as { plan?: unknown; indexListAt?: unknown };
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

export function newRecord(
  fields: Pick<DispatchRecord, 'request_sha256' | 'submit' | 'answer'>,
  now: number,
  leaseMs: number,
): DispatchRecord {
  return { status: 'submitting', owner: randomUUID(), created_at: now, expires_at: now + leaseMs, ...fields };
}

const recordAt = (s3: S3Client, at: S3Location) => leaseAt<DispatchRecord>(s3, at, 'idempotency record');

/** The record vanished between our write and our read (its claimer released it): the claim is tried again. */
class ReleasedMeanwhile extends Error {}

/** One round of a claim: ours, the earlier dispatch's answer, or an error saying why neither. */
async function claimRound(
  findJob: FindJob,
  at: S3Location,
  lease: Lease<DispatchRecord>,
  mine: DispatchRecord,
  named: string,
  now: () => number,
): Promise<Claim> {
  const owned: Claim = { kind: 'owned', at, record: mine };
  if (await lease.claim(mine)) return owned;
  const seen = await lease.read();
  if (!seen) throw new ReleasedMeanwhile();
  const { body: record, etag } = seen;
  if (record.owner === mine.owner) return owned;
  if (record.request_sha256 !== mine.request_sha256)
    throw new InvalidRequestError(
      `idempotency_key: ${named} was already used for a different request (its record: ${formatS3Url(at)})`,
    );
  if (record.status === 'submitted' && record.answer.job_id)
    return { kind: 'done', answer: record.answer as BatchJobAnswer, how: 'replayed' };
  if (!leaseExpired(record, now()))
    throw new IdempotencyInProgressError(
      `another dispatch with idempotency_key ${named} is under way until ${new Date(record.expires_at).toISOString()}; try again later`,
    );
  const jobId = await findJob(record.submit, record.created_at);
  if (jobId) {
    const answer = { ...record.answer, job_id: jobId } as BatchJobAnswer;
    await lease.update({ ...record, status: 'submitted', answer }).catch(() => undefined);
    return { kind: 'done', answer, how: 'found' };
  }
  if (await lease.takeOver(mine, etag)) return owned;
  throw new IdempotencyInProgressError(
    `another dispatch took over idempotency_key ${named} at the same moment; try again later`,
  );
}

/**
 * Claims the key at `at` for `mine`, or says what became of an earlier dispatch with it: its answer
 * (`done`), IdempotencyInProgressError while its claim runs, InvalidRequestError for a different request.
 * An abandoned claim (expired) is checked against Batch first (its job may exist) and only then taken over,
 * with If-Match on what was read, so two dispatchers never both take it. `named` is the key as errors name it.
 */
export async function claim(
  s3: S3Client,
  findJob: FindJob,
  at: S3Location,
  mine: DispatchRecord,
  named: string,
  now: () => number = Date.now,
): Promise<Claim> {
  const lease = recordAt(s3, at);
  // Rounds of a compare-and-set, not retries of a failed call: nothing failed, the record changed under us.
  for (let round = 1; round <= CLAIM_ROUNDS; round++) {
    try {
      return await claimRound(findJob, at, lease, mine, named, now);
    } catch (err) {
      if (!(err instanceof ReleasedMeanwhile)) throw err;
    }
  }
  throw new IdempotencyInProgressError(`the idempotency record of ${named} keeps changing; try again later`);
}

/** Lambda's longest run; the lease of a claim when the invocation's own deadline is unknown. */
const MAX_LAMBDA_MS = 15 * 60 * 1000;
const LEASE_MARGIN_MS = 10_000;

/** A key this dispatch holds: what it records once the job is submitted, or gives up when nothing was. */
export interface OwnedKey {
  kind: 'owned';
  /** Records the answer (every later request with the key gets it); a failure is logged: the job exists. */
  complete(answer: BatchJobAnswer): Promise<void>;
  /** Gives the key up (nothing was submitted), so a retry of the request can dispatch it afresh; logged on failure. */
  release(): Promise<void>;
}

/**
 * Claims the request's key for its planned job, for as long as this invocation may run: the record holds the
 * request's fingerprint, what finds the job in Batch again, and the answer to give. Owned, it is handed back as
 * what completes or releases it.
 */
export async function claimKey(
  req: BatchJobRequest,
  job: Pick<PlannedJob, 'plan' | 'input' | 'answer' | 'dispatchRecord'>,
  keyNamed: string,
  options: { s3: S3Client; findJob: FindJob; log: JsonLogger; remainingMs?: number },
): Promise<OwnedKey | Extract<Claim, { kind: 'done' }>> {
  const submit = {
    jobName: job.plan.name,
    jobQueue: job.plan.queue,
    parameters: { ...job.input.parameters },
  };
  const lease = (options.remainingMs ?? MAX_LAMBDA_MS) + LEASE_MARGIN_MS;
  const mine = newRecord(
    { request_sha256: requestSha256(req), submit, answer: job.answer },
    Date.now(),
    lease,
  );
  const claimed = await claim(options.s3, options.findJob, job.dispatchRecord!, mine, keyNamed);
  if (claimed.kind === 'done') return claimed;
  const { s3, log } = options;
  const { at, record } = claimed;
  return {
    kind: 'owned',
    complete: (answer) =>
      complete(s3, at, record, answer).catch((error: unknown) =>
        // The job exists; a repeat after the lease finds it in Batch instead of the record.
        log.warn('could not record the answer for the idempotency key', { error }),
      ),
    release: () =>
      release(s3, at).catch((error: unknown) => log.warn('could not release the key', { error })),
  };
}

/** Records the answer: every later request with the key gets it. */
async function complete(
  s3: S3Client,
  at: S3Location,
  record: DispatchRecord,
  answer: BatchJobAnswer,
): Promise<void> {
  await recordAt(s3, at).update({ ...record, status: 'submitted', answer });
}

/** Gives the key up (nothing was submitted), so a retry of the request can dispatch it afresh. */
async function release(s3: S3Client, at: S3Location): Promise<void> {
  await recordAt(s3, at).release();
}
