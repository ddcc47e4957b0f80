// A dispatch's idempotency record (`<prefix><function>/<id>.dispatch.json`, lib/payload-keys.ts): its shape, which the
// dispatcher writes (functions/dispatcher/idempotency.ts holds its lease) and lambda-batch lists, and the reader of
// what a listing needs from one.
import type { BatchJobAnswer } from './request.js';
import type { LeaseBody } from './s3-lease.js';

/**
 * What the record holds: who claimed the key (the lease's `owner`, until `expires_at`: after it a `submitting` claim is
 * abandoned, its Lambda has timed out), for which request, and (once submitted) the answer.
 */
export interface DispatchRecord extends LeaseBody {
  status: 'submitting' | 'submitted';
  request_sha256: string;
  /** ms since epoch */
  created_at: number;
  /** what identifies the job in Batch, to find it when the claimer died after submitting */
  submit: { jobName: string; jobQueue: string; parameters: Record<string, string> };
  /** the answer without job_id while submitting; the full answer once submitted */
  answer: Omit<BatchJobAnswer, 'job_id'> & { job_id?: string };
}

/** A record that is not one the dispatcher wrote; the message names the object and what is wrong. */
export class InvalidDispatchRecordError extends Error {
  override name = 'InvalidDispatchRecordError';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The parts of a parsed record a listing shows (its status, when it was made, the answer), checked as far as a
 * listing relies on them; the rest is kept as it is. `where` (its URL) goes into the message.
 */
export function parseDispatchRecord(raw: unknown, where: string): DispatchRecord {
  const fail = (problem: string): never => {
    throw new InvalidDispatchRecordError(`dispatch record ${where}: ${problem}`);
  };
  if (!isObj(raw)) return fail('is not a JSON object');
  if (raw.status !== 'submitting' && raw.status !== 'submitted')
    fail(`status must be "submitting" or "submitted", got ${JSON.stringify(raw.status)}`);
  if (typeof raw.created_at !== 'number' || !Number.isFinite(raw.created_at))
    fail('created_at must be a time in ms');
  const answer = raw.answer;
  if (!isObj(answer) || typeof answer.job_name !== 'string') fail('answer must hold the job name');
  const jobId = (answer as Obj).job_id;
  if (raw.status === 'submitted' && typeof jobId !== 'string') fail('a submitted record must hold a job_id');
  return raw as unknown as DispatchRecord;
}
