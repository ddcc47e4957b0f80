// Where a dispatch's objects are in the payload store: `<prefix><function-name>/<id>.json` (its payload), with the
// default result `…/<id>_out.json` beside it, `…/<id>.dispatch.json` (its idempotency record), `…/<id>/in/` and
// `…/<id>/out/` (an item set), `…/<definition>.<spec>.jobdef.json` (an image function's registration lock); or no key
// at all, a payload small enough to travel inline. Every key is built here, and only from a function name and an id
// that lib/object-id.ts lets through: nothing a caller sends reaches a key unchecked, and no key leaves
// `<prefix><function-name>/`.
import { randomUUID } from 'node:crypto';
import { itemInput, itemSetPrefixes } from './item-set.js';
import { checkFunctionName, checkObjectId } from './object-id.js';
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

/** What ends the key of every idempotency record (lambda-batch lists them by it). */
export const DISPATCH_RECORD_SUFFIX = '.dispatch.json';

/** The key of the idempotency record of dispatch `id`: `<prefix><function-name>/<id>.dispatch.json`. */
export function dispatchRecordKey(prefix: string, functionName: string, id: string): string {
  return joinKey(prefix, `${under(functionName, id)}${DISPATCH_RECORD_SUFFIX}`);
}

/** Where the objects of `functionName`'s dispatches are (`<prefix><function-name>/`), or all of them (no name). */
export function functionPrefix(prefix: string, functionName?: string): string {
  return functionName === undefined
    ? joinKey(prefix, '')
    : joinKey(prefix, `${checkFunctionName(functionName)}/`);
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

/** Every object one dispatch may have: its payload or its item set (one of them is used), and its idempotency record. */
export interface DispatchObjects {
  payload: PayloadRef;
  set: ItemSetRef;
  dispatchRecord: S3Location;
}

/** The objects of dispatch `id` of `functionName` (each key checked, as the functions above check them). */
export function dispatchObjects(place: PayloadPlace, functionName: string, id: string): DispatchObjects {
  return {
    payload: payloadRef(place, functionName, id),
    set: itemSetRef(place, functionName, id),
    dispatchRecord: { bucket: place.bucket, key: dispatchRecordKey(place.prefix, functionName, id) },
  };
}

/** `data:application/json;base64,…` for a payload small enough to travel inside the job's parameters. */
export function inlinePayloadUrl(json: string): string {
  return `data:application/json;base64,${Buffer.from(json, 'utf8').toString('base64')}`;
}
