// Small S3 objects beside the results: a run record or an item's error part in one PutObject, and whether an item's
// result is already there (a retried child of an array job skips those items).
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { locate, payloadError, type S3Deps } from './s3-payload.js';
import { s3Client } from './sdk-clients.js';

/** Writes `body` (JSON) to `url` in one PutObject; the SDK resends a buffered body on transient failures itself. */
export async function putS3Object(url: string, body: string, deps: S3Deps, what: string): Promise<void> {
  const loc = locate(url);
  const s3 = s3Client(deps.env, deps.timeouts);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: loc.key,
        Body: Buffer.from(body),
        ContentType: 'application/json',
      }),
      deps.signal ? { abortSignal: deps.signal } : {},
    );
  } catch (err) {
    throw payloadError('write', loc, err, what);
  }
}

/** True when `url` names an object; false for none (404). Other failures are the run's errors (exit 2 or 4). */
export async function s3ObjectExists(url: string, deps: S3Deps): Promise<boolean> {
  const loc = locate(url);
  const s3 = s3Client(deps.env, deps.timeouts);
  try {
    await s3.send(
      new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }),
      deps.signal ? { abortSignal: deps.signal } : {},
    );
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
    throw payloadError('read', loc, err, 'look for the result');
  }
}
