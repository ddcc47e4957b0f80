// The payload store: where job payloads live in S3 (`<prefix><function-name>/<id>.json`, item sets under
// `…/<id>/in/`) beside the dispatcher's idempotency records and registration locks, and the one way each object there
// is written, read and removed.
// Every key is built here, and only from a function name and an id that lib/object-id.ts lets through: nothing a
// caller sends reaches a key unchecked, and no key leaves `<prefix><function-name>/`.
import { randomUUID } from 'node:crypto';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PayloadStoreError } from './errors.js';
import { itemInput, itemSetPrefixes } from './item-set.js';
import { checkFunctionName, checkObjectId } from './object-id.js';
import { mapBounded } from './pool.js';
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

/** `<function-name>/<id>`, each part checked: one segment each, so the key stays under the function's prefix. */
function under(functionName: string, id: string): string {
  return `${checkFunctionName(functionName)}/${checkObjectId(id)}`;
}

/** The key of payload `id` for `functionName`: `<prefix><function-name>/<id>.json`. */
export function payloadKey(prefix: string, functionName: string, id: string): string {
  return joinKey(prefix, `${under(functionName, id)}.json`);
}

/** The key of the idempotency record of dispatch `id`: `<prefix><function-name>/<id>.dispatch.json`. */
export function recordKey(prefix: string, functionName: string, id: string): string {
  return joinKey(prefix, `${under(functionName, id)}.dispatch.json`);
}

/**
 * The key of the registration lock of an image function's job definition (named and hashed as the definition is):
 * `<prefix><function-name>/<definition>.<spec>.jobdef.json`.
 */
export function definitionLockKey(
  prefix: string,
  functionName: string,
  definition: string,
  spec: string,
): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(definition) || !/^[0-9a-f]{1,64}$/.test(spec))
    throw new TypeError(`not a job definition name and spec: ${JSON.stringify([definition, spec])}`);
  return joinKey(prefix, `${checkFunctionName(functionName)}/${definition}.${spec}.jobdef.json`);
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

/** An item set's place: items at `<url><i>.json` (`…/<id>/in/`), results under `url_out` (`…/<id>/out/`). */
export interface ItemSetRef {
  id: string;
  bucket: string;
  /** key prefix of the items, ending in `in/` */
  inPrefix: string;
  url: string;
  url_out: string;
}

/** The item set `id` of `functionName`: `<prefix><function-name>/<id>/in/` and `…/out/`. */
export function itemSetRef(place: PayloadPlace, functionName: string, id: string = randomUUID()): ItemSetRef {
  const { input, output } = itemSetPrefixes(joinKey(place.prefix, `${under(functionName, id)}/`));
  return {
    id,
    bucket: place.bucket,
    inPrefix: input,
    url: formatS3Url({ bucket: place.bucket, key: input }),
    url_out: formatS3Url({ bucket: place.bucket, key: output }),
  };
}

/** The key of item `i` of a set. */
export function itemKey(set: Pick<ItemSetRef, 'inPrefix'>, i: number): string {
  return itemInput(set.inPrefix, i);
}

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
  await mapBounded(bodies, concurrency, (body, i) =>
    putObject(s3, { bucket: set.bucket, key: itemKey(set, i) }, body),
  );
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

/** `data:application/json;base64,…` for a payload small enough to travel inside the job's parameters. */
export function inlinePayloadUrl(json: string): string {
  return `data:application/json;base64,${Buffer.from(json, 'utf8').toString('base64')}`;
}
