// Where job payloads live in S3 (`<prefix><function-name>/<id>.json`), and writing or removing one; the caller owns the client.
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PayloadStoreError } from './errors.js';
import { formatS3Url, outputKeyFor, type S3Location } from './s3-url.js';

/** Where payloads go: a bucket and a key prefix such as `batch/` (may be empty). */
export interface PayloadPlace {
  bucket: string;
  prefix: string;
}

/** A stored (or to-be-stored) payload's location, its URL, and the default result location next to it. */
export interface PayloadRef extends S3Location {
  id: string;
  url: string;
  url_out: string;
}

// Object keys must not gain `//` or start with `/` whatever the prefix looks like.
function joinKey(prefix: string, rest: string): string {
  const p = prefix.replace(/^\/+/, '');
  return p === '' || p.endsWith('/') ? `${p}${rest}` : `${p}/${rest}`;
}

/** The key of payload `id` for `functionName`: `<prefix><function-name>/<id>.json`. */
export function payloadKey(prefix: string, functionName: string, id: string): string {
  return joinKey(prefix, `${functionName}/${id}.json`);
}

/** A fresh payload location for `functionName` (a random id unless one is given). */
export function payloadRef(place: PayloadPlace, functionName: string, id: string = randomUUID()): PayloadRef {
  const key = payloadKey(place.prefix, functionName, id);
  return {
    id,
    bucket: place.bucket,
    key,
    url: formatS3Url({ bucket: place.bucket, key }),
    url_out: formatS3Url({ bucket: place.bucket, key: outputKeyFor(key) }),
  };
}

/** Writes `body` (the payload's JSON text) with PutObject; throws PayloadStoreError naming the URL. */
export async function putPayload(s3: S3Client, ref: S3Location, body: string | Uint8Array): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, ContentType: 'application/json' }),
    );
  } catch (err) {
    throw new PayloadStoreError(`could not write ${formatS3Url(ref)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Removes a payload object (e.g. when the job it was written for could not be submitted). */
export async function deletePayload(s3: S3Client, ref: S3Location): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  } catch (err) {
    throw new PayloadStoreError(`could not delete ${formatS3Url(ref)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** `data:application/json;base64,…` for a payload small enough to travel inside the job's parameters. */
export function inlinePayloadUrl(json: string): string {
  return `data:application/json;base64,${Buffer.from(json, 'utf8').toString('base64')}`;
}
