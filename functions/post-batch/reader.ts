// How post-batch reads what a job left: one object's bytes (absent → undefined, too large → its size alone), and the
// names under an item set's output prefix.
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseS3Url, type S3Location } from '../../lib/s3-url.js';
import { InvalidJobError, ReadError } from './errors.js';

export type Fetched = { body: Buffer } | { tooLarge: true; bytes: number };

export interface OutputReader {
  /** The object's bytes; undefined when there is none; `tooLarge` (body not read) when over `maxBytes`. */
  get(url: string, maxBytes: number): Promise<Fetched | undefined>;
  /** Names of the objects under the prefix `url`, relative to it. */
  list(url: string): Promise<string[]>;
}

export function location(url: string, what: string): S3Location {
  try {
    return parseS3Url(url);
  } catch (err) {
    throw new InvalidJobError(
      `${what} ${JSON.stringify(url)} is not an s3:// URL (${(err as Error).message})`,
    );
  }
}

// Without s3:ListBucket a missing key answers 403, not 404: the template grants it (docs/step-functions.md).
const ABSENT = new Set(['NoSuchKey', 'NotFound']);

export function s3Reader(s3: S3Client): OutputReader {
  return {
    async get(url, maxBytes) {
      const { bucket, key } = location(url, 'the object');
      let out: GetObjectCommandOutput;
      try {
        out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        if (ABSENT.has((err as Error).name)) return undefined;
        throw new ReadError(`could not read ${url}: ${(err as Error).name}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const body = out.Body as (Readable & { transformToByteArray(): Promise<Uint8Array> }) | undefined;
      const bytes = out.ContentLength ?? 0;
      if (bytes > maxBytes) {
        body?.destroy();
        return { tooLarge: true, bytes };
      }
      try {
        const bytes1 = (await body?.transformToByteArray()) ?? new Uint8Array();
        return { body: Buffer.from(bytes1.buffer, bytes1.byteOffset, bytes1.byteLength) };
      } catch (err) {
        throw new ReadError(`could not read ${url}: ${(err as Error).message}`, { cause: err });
      }
    },

    async list(url) {
      const { bucket, key } = location(url, 'the item set');
      const names: string[] = [];
      let token: string | undefined;
      do {
        let page: { Contents?: { Key?: string }[]; NextContinuationToken?: string; IsTruncated?: boolean };
        try {
          page = await s3.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }),
          );
        } catch (err) {
          throw new ReadError(`could not list ${url}: ${(err as Error).name}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        for (const o of page.Contents ?? []) if (o.Key?.startsWith(key)) names.push(o.Key.slice(key.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return names;
    },
  };
}
