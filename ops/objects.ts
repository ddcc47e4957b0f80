// Small objects lambda-batch reads and writes in S3: a run record, an error part, an index list, a dispatch record.
import type { S3Client } from '@aws-sdk/client-s3';
import { parseS3Url } from '../lib/s3-url.js';
import { aws } from './errors.js';

/** A record is a few KB; anything much larger is not one, and is not read into memory. */
export const MAX_SMALL_OBJECT_BYTES = 1024 * 1024;

const ABSENT = new Set(['NoSuchKey', 'NotFound']);

/** The object's text; undefined when there is none; an error over MAX_SMALL_OBJECT_BYTES. */
export async function readText(s3: S3Client, url: string): Promise<string | undefined> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Url(url);
  return aws(`read ${url}`, async () => {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((out.ContentLength ?? 0) > MAX_SMALL_OBJECT_BYTES) {
        out.Body?.transformToWebStream().cancel();
        throw new Error(`it is ${out.ContentLength} bytes, more than a record or list can be`);
      }
      return await out.Body!.transformToString();
    } catch (err) {
      if (ABSENT.has((err as Error).name)) return undefined;
      throw err;
    }
  });
}

/** Writes `text` only where no object is (If-None-Match: *): false when one is there already. */
export async function writeNew(s3: S3Client, url: string, text: string): Promise<boolean> {
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Url(url);
  return aws(`write ${url}`, async () => {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: text,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw err;
    }
  });
}
