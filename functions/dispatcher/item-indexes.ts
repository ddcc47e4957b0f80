// A redrive's index list read, before anything is written: the request names it (`item_indexes`, an object under the
// set's prefix: lib/item-set.ts), and its parser has found where it is (lib/request-parse.ts). A list that is missing,
// empty or too large is refused here as InvalidRequestError naming the field; its text is parsed where the set is
// placed (place.ts), and its length sizes the array job.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvalidRequestError, PayloadStoreError } from '../../lib/errors.js';
import { MAX_INDEX_LIST_BYTES } from '../../lib/item-set.js';
import type { ParsedRequest } from '../../lib/request.js';
import type { S3Location } from '../../lib/s3-url.js';

const ABSENT = new Set(['NoSuchKey', 'NotFound']);

/** The list's text: at most MAX_INDEX_LIST_BYTES + 1 bytes are fetched, so a larger object is seen without reading it. */
async function listText(s3: S3Client, url: string, { bucket, key }: S3Location): Promise<string> {
  try {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${MAX_INDEX_LIST_BYTES}` }),
    );
    const bytes = await out.Body!.transformToByteArray();
    if (bytes.byteLength > MAX_INDEX_LIST_BYTES)
      throw new InvalidRequestError(
        `item_indexes: ${url} is over ${MAX_INDEX_LIST_BYTES} bytes; a list holds at most 10000 indexes`,
      );
    return Buffer.from(bytes).toString('utf8');
  } catch (err) {
    if (err instanceof InvalidRequestError) throw err;
    if (ABSENT.has((err as Error).name))
      throw new InvalidRequestError(`item_indexes: there is no object at ${url}`);
    // An empty object has no byte 0 for the range to start at.
    if ((err as Error).name === 'InvalidRange')
      throw new InvalidRequestError(`item_indexes: ${url} is empty`);
    throw new PayloadStoreError(`could not read ${url}: ${(err as Error).message}`, { cause: err });
  }
}

/** A redrive's index list as read: where it is and its text. */
export interface IndexListText {
  url: string;
  text: string;
}

/** The request's index list, read; undefined for a request without one. */
export async function readIndexList(req: ParsedRequest, s3: S3Client): Promise<IndexListText | undefined> {
  if (req.item_indexes === undefined || req.item_count === undefined) return undefined;
  // A request built by hand rather than parsed would have its list silently left out: the whole set would run.
  if (req.indexListAt === undefined)
    throw new TypeError(
      'item_indexes: the request was not parsed (lib/request-parse.ts), so its list has no place',
    );
  const url = req.item_indexes;
  return { url, text: await listText(s3, url, req.indexListAt) };
}
