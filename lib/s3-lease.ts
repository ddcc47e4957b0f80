// A lease held by an S3 object in the payload store: written only where there is none (If-None-Match: *), taken over
// only as it was read (If-Match its ETag), updated by its holder, given up by removing it. The dispatcher's
// idempotency records and its job-definition registration locks are such leases: a small JSON object whose holder
// is `owner` until `expires_at`.
import type { S3Client } from '@aws-sdk/client-s3';
import { PayloadStoreError } from './errors.js';
import { parseJsonText } from './json-text.js';
import { deleteObject, putObject, readObject, type WriteCondition } from './payload-store.js';
import { answeredStatus } from './retry.js';
import { formatS3Url, type S3Location } from './s3-url.js';

/** What every lease holds beside its own fields. */
export interface LeaseBody {
  /** random per holder: tells our own write (its answer lost, the SDK retried it) from another's */
  owner: string;
  /** ms since epoch: after it, a holder that has not finished is taken for dead and its lease may be taken over */
  expires_at: number;
}

/** A lease as read: its body, and the ETag a takeover is conditioned on. */
export interface HeldLease<T extends LeaseBody> {
  body: T;
  etag: string;
}

/** The lease on one object; each call throws PayloadStoreError naming the object when S3 fails it. */
export interface Lease<T extends LeaseBody> {
  /** Writes `body` where no lease is: true when it is ours, false when another holds one. */
  claim(body: T): Promise<boolean>;
  /** Replaces the lease read with `etag` by `body`: true when taken, false when it changed meanwhile. */
  takeOver(body: T, etag: string): Promise<boolean>;
  /** The holder writes what it did into its lease (an answer, an ARN). */
  update(body: T): Promise<void>;
  /** The lease as it is; undefined when there is none (also a PayloadStoreError when it is not JSON). */
  read(): Promise<HeldLease<T> | undefined>;
  /** Gives the lease up, so the next claimer need not wait for it to expire. */
  release(): Promise<void>;
}

/** 412: the condition failed (an object is there, or it changed); 409: a concurrent conditional write won. */
function lostRace(err: unknown): boolean {
  return [409, 412].includes(answeredStatus((err as Error).cause) ?? 0);
}

/** The lease held by the object `at`; `what` is what errors call it (`idempotency record`, `registration lock`). */
export function leaseAt<T extends LeaseBody>(s3: S3Client, at: S3Location, what: string): Lease<T> {
  const writeIf = async (body: T, condition: WriteCondition) => {
    try {
      await putObject(s3, at, JSON.stringify(body), condition);
      return true;
    } catch (err) {
      if (lostRace(err)) return false;
      throw err;
    }
  };
  return {
    claim: (body) => writeIf(body, { ifNoneMatch: '*' }),
    takeOver: (body, etag) => writeIf(body, { ifMatch: etag }),
    update: (body) => putObject(s3, at, JSON.stringify(body)),
    async read() {
      const got = await readObject(s3, at);
      if (!got) return undefined;
      try {
        return { body: parseJsonText(got.text) as T, etag: got.etag };
      } catch (err) {
        throw new PayloadStoreError(`the ${what} ${formatS3Url(at)} is ${(err as Error).message}`);
      }
    },
    release: () => deleteObject(s3, at),
  };
}

/** True once a lease's holder is past its time. */
export function leaseExpired(lease: LeaseBody, now: number): boolean {
  return lease.expires_at <= now;
}
