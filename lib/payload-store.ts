// The payload store: the one way each object of it (a payload, an item, an idempotency record, a registration lock,
// at the keys lib/payload-keys.ts builds) is written, read and removed in S3, every failure a PayloadStoreError
// naming the object.
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PayloadStoreError } from './errors.js';
import { type ItemSetRef, itemKey } from './payload-keys.js';
import { mapBounded } from './pool.js';
import { formatS3Url, type S3Location } from './s3-url.js';

/** Parallel PutObjects per item set: enough to hide S3 latency, well under the SDK's 50 sockets. */
export const ITEM_WRITE_CONCURRENCY = 32;

/**
 * Writes every item of a set (`bodies[i]` → `<in>/<i>.json`), `concurrency` at a time. On a failure it stops
 * starting new writes, waits for those in flight, and throws PayloadStoreError; `written` then lists the keys
 * that may exist (for the caller to remove).
 */
export async function putItems(
  s3: S3Client,
  set: Pick<ItemSetRef, 'bucket' | 'inPrefix'>,
  bodies: readonly string[],
  concurrency = ITEM_WRITE_CONCURRENCY,
): Promise<void> {
  const put = (body: string, i: number) => putObject(s3, { bucket: set.bucket, key: itemKey(set, i) }, body);
  await mapBounded(bodies, concurrency, put);
}

/** What one dispatch writes: its payload, or its set's items (`bodies[i]` → `<in>/<i>.json`). */
export type PayloadWrites =
  | { kind: 'payload'; ref: S3Location; body: string }
  | { kind: 'items'; set: Pick<ItemSetRef, 'bucket' | 'inPrefix'>; bodies: string[] };

/**
 * Writes one dispatch's objects and returns what removes them again (for a job that was then not submitted). When a
 * write fails, what may have landed is removed before the error is thrown: a write may land with only its answer
 * lost, and the keys are this dispatch's own, so removing them is safe.
 */
export async function writePayloads(s3: S3Client, writes: PayloadWrites): Promise<() => Promise<void>> {
  const remove =
    writes.kind === 'payload'
      ? () => deleteObject(s3, writes.ref)
      : () =>
          deleteObjects(
            s3,
            writes.set.bucket,
            writes.bodies.map((_, i) => itemKey(writes.set, i)),
          );
  try {
    if (writes.kind === 'payload') await putObject(s3, writes.ref, writes.body);
    else await putItems(s3, writes.set, writes.bodies);
  } catch (err) {
    await remove().catch(() => {});
    throw err;
  }
  return remove;
}

/** Removes many objects of one bucket with DeleteObjects (1,000 keys a call). */
export async function deleteObjects(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    try {
      const out = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (out.Errors && out.Errors.length > 0)
        throw new Error(
          `${out.Errors.length} not removed, first ${out.Errors[0]?.Key}: ${out.Errors[0]?.Message}`,
        );
    } catch (err) {
      throw new PayloadStoreError(`could not delete objects in s3://${bucket}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** A condition on a write: only where no object is (If-None-Match: *), or only over the one read (If-Match its ETag). */
export type WriteCondition = { ifNoneMatch: '*' } | { ifMatch: string };

/**
 * Writes `body` (JSON text: a payload, an item, a record) with PutObject, under `condition` when one is given;
 * throws PayloadStoreError naming the URL, with the SDK's error as its cause (a 412 there: the condition failed).
 */
export async function putObject(
  s3: S3Client,
  ref: S3Location,
  body: string | Uint8Array,
  condition?: WriteCondition,
): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        Body: body,
        ContentType: 'application/json',
        ...(condition && 'ifMatch' in condition ? { IfMatch: condition.ifMatch } : {}),
        ...(condition && 'ifNoneMatch' in condition ? { IfNoneMatch: condition.ifNoneMatch } : {}),
      }),
    );
  } catch (err) {
    throw new PayloadStoreError(`could not write ${formatS3Url(ref)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** An object's text and its ETag; undefined when there is none; PayloadStoreError naming the URL otherwise. */
export async function readObject(
  s3: S3Client,
  ref: S3Location,
): Promise<{ text: string; etag: string } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return { text: await out.Body!.transformToString(), etag: out.ETag ?? '' };
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw new PayloadStoreError(`could not read ${formatS3Url(ref)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Removes an object (a payload whose job could not be submitted, a released claim). */
export async function deleteObject(s3: S3Client, ref: S3Location): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  } catch (err) {
    throw new PayloadStoreError(`could not delete ${formatS3Url(ref)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
