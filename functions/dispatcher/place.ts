// Where a request's payload goes, decided before its image is chosen (an image function's definition may be
// registered then): a request refused here has had nothing written. A URL it names (a set's with its output prefix
// and a redrive's index list, parsed here against the set's item count), a set of items to write, or one payload
// inline or to write; nothing is written yet (writes come after the key's claim: dispatch.ts).
import { InvalidRequestError } from '../../lib/errors.js';
import { ItemIndexesError, outputPrefixFor, parseItemIndexes } from '../../lib/item-set.js';
import type { ItemIndexes, JobPayload } from '../../lib/job-plan.js';
import { type DispatchObjects, dispatchObjects, inlinePayloadUrl } from '../../lib/payload-keys.js';
import type { PayloadWrites } from '../../lib/payload-store.js';
import type { BatchJobRequest } from '../../lib/request.js';
import { outputUrlFor } from '../../lib/s3-url.js';
import type { DispatcherConfig } from './config.js';
import type { IndexListText } from './item-indexes.js';
import type { CheckedRequest } from './request-check.js';

/** Where the payload goes and what has to be written there (nothing yet: writes come after the claim). */
export interface Placement {
  payload: JobPayload;
  output: string;
  location: 'inline' | 's3' | 'url' | 'set';
  size?: number;
  /** the payload object or the set's items to write */
  writes?: PayloadWrites;
}

/** Where the request's payload goes, and the objects a dispatch with a payload bucket keeps. */
export interface Placed {
  placement: Placement;
  objects?: DispatchObjects;
}

/**
 * A URL the request names: one payload, or a set with its output prefix (`…/in/` → `…/out/`, the layout the dispatcher
 * itself uses for sets; any other prefix needs an explicit url_out) and its redrive's index list, parsed against the
 * set's item count (a list that is not 1 to 10,000 distinct indexes below it is InvalidRequestError).
 */
function namedPlacement(
  req: BatchJobRequest & { url: string },
  perJob: number,
  list: IndexListText | undefined,
): Placement {
  if (req.item_count === undefined)
    return {
      payload: { kind: 'single', url: req.url },
      output: req.url_out ?? outputUrlFor(req.url),
      location: 'url',
    };
  const output = req.url_out ?? outputPrefixFor(req.url);
  let indexes: ItemIndexes | undefined;
  if (list)
    try {
      indexes = { url: list.url, count: parseItemIndexes(list.text, req.item_count).length };
    } catch (err) {
      if (err instanceof ItemIndexesError)
        throw new InvalidRequestError(`item_indexes: ${list.url} ${err.message}`);
      throw err;
    }
  if (output === undefined)
    throw new InvalidRequestError('url_out: is required for an item set url that does not end in /in/');
  const payload: JobPayload = {
    kind: 'set',
    url: req.url,
    itemCount: req.item_count,
    itemsPerJob: perJob,
    ...(indexes ? { indexes } : {}),
  };
  return { payload, output, location: 'url' };
}

/**
 * The request's payload placed: a URL it names (a set's with its redrive's index list, read beforehand:
 * item-indexes.ts), a set of items to write, or one payload inline or to write.
 */
export function place(
  req: BatchJobRequest,
  checked: CheckedRequest,
  fn: string,
  list: IndexListText | undefined,
  config: DispatcherConfig,
): Placed {
  const perJob = req.items_per_job ?? 1;
  const named = req.url === undefined ? undefined : namedPlacement(req, perJob, list);
  // The dispatch's own objects (its record, and the payload it writes) where it has a bucket: a request that needs
  // them and has none was refused by the request check.
  const objects =
    checked.bucket === undefined
      ? undefined
      : dispatchObjects({ bucket: checked.bucket, prefix: config.payloadPrefix }, fn, checked.objectId);
  if (named) return { placement: named, ...(objects ? { objects } : {}) };
  const { payload: ref, set } = objects!;
  if (req.payloads !== undefined) {
    const bodies = req.payloads.map((p) => JSON.stringify(p));
    const placement: Placement = {
      payload: { kind: 'set', url: set.url, itemCount: bodies.length, itemsPerJob: perJob },
      output: req.url_out ?? set.url_out,
      location: 'set',
      size: bodies.reduce((n, b) => n + Buffer.byteLength(b, 'utf8'), 0),
      writes: { kind: 'items', set, bodies },
    };
    return { placement, objects };
  }
  const body = JSON.stringify(req.payload);
  const size = Buffer.byteLength(body, 'utf8');
  const output = req.url_out ?? ref.url_out;
  const placement: Placement =
    config.inlinePayloadLimit > 0 && size <= config.inlinePayloadLimit
      ? { payload: { kind: 'single', url: inlinePayloadUrl(body) }, output, location: 'inline', size }
      : {
          payload: { kind: 'single', url: ref.url },
          output,
          location: 's3',
          size,
          writes: { kind: 'payload', ref, body },
        };
  return { placement, objects };
}
