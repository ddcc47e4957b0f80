// One job per idempotency key, with no database: the key is claimed by an S3 conditional write (If-None-Match: *)
// of a small record beside the payloads, which later holds the answer that every repeat of the request gets.
import { createHash, randomUUID } from 'node:crypto';
import type { BatchClient } from '@aws-sdk/client-batch';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { IdempotencyInProgressError, InvalidRequestError, PayloadStoreError } from '../../lib/errors.js';
import { parseJsonText } from '../../lib/json-text.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import { formatS3Url, type S3Location } from '../../lib/s3-url.js';
import { findSubmitted } from './batch.js';

/** What the record holds: who claimed the key, for which request, until when, and (once submitted) the answer. */
export interface DispatchRecord {
  status: 'submitting' | 'submitted';
  /** random per dispatch: tells our own write (its answer lost, the SDK retried it) from another's */
  owner: string;
  request_sha256: string;
  /** ms since epoch */
  created_at: number;
  /** ms since epoch: after this a `submitting` claim is abandoned (its Lambda has timed out) */
  expires_at: number;
  /** what identifies the job in Batch, to find it when the claimer died after submitting */
  submit: { jobName: string; jobQueue: string; parameters: Record<string, string> };
  /** the answer without job_id while submitting; the full answer once submitted */
  answer: Omit<BatchJobAnswer, 'job_id'> & { job_id?: string };
}

export type Claim =
  | { kind: 'owned'; at: S3Location; record: DispatchRecord }
  | { kind: 'done'; answer: BatchJobAnswer; how: 'replayed' | 'found' };

/** The request's fingerprint: a key reused for a different request is refused, not answered with another job. */
export function requestSha256(request: object): string {
  const { plan: _, ...rest } = request as { plan?: unknown };
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

export function newRecord(
  fields: Pick<DispatchRecord, 'request_sha256' | 'submit' | 'answer'>,
  now: number,
  leaseMs: number,
): DispatchRecord {
  return { status: 'submitting', owner: randomUUID(), created_at: now, expires_at: now + leaseMs, ...fields };
}

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/** 412: the condition failed (the key exists, or changed); 409: a concurrent conditional write won. */
const lostRace = (e: SdkError) => [409, 412].includes(e.$metadata?.httpStatusCode ?? 0);

async function put(
  s3: S3Client,
  at: S3Location,
  record: DispatchRecord,
  condition: Partial<PutObjectCommandInput>,
) {
  await s3.send(
    new PutObjectCommand({
      Bucket: at.bucket,
      Key: at.key,
      Body: JSON.stringify(record),
      ContentType: 'application/json',
      ...condition,
    }),
  );
}

async function read(
  s3: S3Client,
  at: S3Location,
): Promise<{ record: DispatchRecord; etag: string } | undefined> {
  let text: string;
  let etag: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }));
    text = await out.Body!.transformToString();
    etag = out.ETag ?? '';
  } catch (err) {
    if ((err as SdkError).name === 'NoSuchKey') return undefined;
    throw new PayloadStoreError(`could not read ${formatS3Url(at)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return { record: parseJsonText(text) as DispatchRecord, etag };
  } catch (err) {
    throw new PayloadStoreError(`the idempotency record ${formatS3Url(at)} is ${(err as Error).message}`);
  }
}

function storeError(at: S3Location, err: unknown): PayloadStoreError {
  return new PayloadStoreError(`could not write ${formatS3Url(at)}: ${(err as Error).message}`, {
    cause: err,
  });
}

/**
 * Claims the key at `at` for `mine`, or says what became of an earlier dispatch with it: its answer
 * (`done`), IdempotencyInProgressError while its claim runs, InvalidRequestError for a different request.
 * An abandoned claim (expired) is checked against Batch first (its job may exist) and only then taken over,
 * with If-Match on what was read, so two dispatchers never both take it. `named` is the key as errors name it.
 */
export async function claim(
  s3: S3Client,
  batch: BatchClient,
  at: S3Location,
  mine: DispatchRecord,
  named: string,
  now: () => number = Date.now,
): Promise<Claim> {
  for (let round = 0; round < 3; round++) {
    try {
      await put(s3, at, mine, { IfNoneMatch: '*' });
      return { kind: 'owned', at, record: mine };
    } catch (err) {
      if (!lostRace(err as SdkError)) throw storeError(at, err);
    }
    const seen = await read(s3, at);
    if (!seen) continue; // released between our write and our read: try again
    const { record, etag } = seen;
    if (record.owner === mine.owner) return { kind: 'owned', at, record: mine };
    if (record.request_sha256 !== mine.request_sha256)
      throw new InvalidRequestError(
        `idempotency_key: ${named} was already used for a different request (its record: ${formatS3Url(at)})`,
      );
    if (record.status === 'submitted' && record.answer.job_id)
      return { kind: 'done', answer: record.answer as BatchJobAnswer, how: 'replayed' };
    if (record.expires_at > now())
      throw new IdempotencyInProgressError(
        `another dispatch with idempotency_key ${named} is under way until ${new Date(record.expires_at).toISOString()}; try again later`,
      );
    const jobId = await findSubmitted(batch, record.submit, record.created_at);
    if (jobId) {
      const answer = { ...record.answer, job_id: jobId } as BatchJobAnswer;
      await complete(s3, at, record, answer).catch(() => undefined);
      return { kind: 'done', answer, how: 'found' };
    }
    try {
      await put(s3, at, mine, { IfMatch: etag });
      return { kind: 'owned', at, record: mine };
    } catch (err) {
      if (!lostRace(err as SdkError)) throw storeError(at, err);
      throw new IdempotencyInProgressError(
        `another dispatch took over idempotency_key ${named} at the same moment; try again later`,
      );
    }
  }
  throw new IdempotencyInProgressError(`the idempotency record of ${named} keeps changing; try again later`);
}

/** Records the answer: every later request with the key gets it. */
export async function complete(
  s3: S3Client,
  at: S3Location,
  record: DispatchRecord,
  answer: BatchJobAnswer,
): Promise<void> {
  try {
    await put(s3, at, { ...record, status: 'submitted', answer }, {});
  } catch (err) {
    throw storeError(at, err);
  }
}

/** Gives the key up (nothing was submitted), so a retry of the request can dispatch it afresh. */
export async function release(s3: S3Client, at: S3Location): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: at.bucket, Key: at.key }));
  } catch (err) {
    throw new PayloadStoreError(`could not delete ${formatS3Url(at)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
