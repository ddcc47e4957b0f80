// From a checked request and its function to a job plan: image and job definition, where the payload goes, the job.
import { ConfigError } from '../../lib/env.js';
import { InvalidRequestError, UnsupportedRuntimeError } from '../../lib/errors.js';
import { outputPrefixFor } from '../../lib/item-set.js';
import { type JobImage, type JobPayload, type JobPlan, parseJobPlan } from '../../lib/job-plan.js';
import {
  type ItemSetRef,
  inlinePayloadUrl,
  itemSetRef,
  type PayloadRef,
  payloadRef,
} from '../../lib/payload-store.js';
import type { BatchJobRequest } from '../../lib/request.js';
import { recordUrlFor } from '../../lib/run-record.js';
import { outputUrlFor } from '../../lib/s3-url.js';
import { jobNameFor, withStackPrefix } from './batch.js';
import type { DispatcherConfig } from './config.js';
import type { TargetFunction } from './functions.js';
import { chooseImage } from './image.js';

export function payloadBucket(config: DispatcherConfig, why: string): string {
  if (!config.payloadBucket)
    throw new ConfigError(`PAYLOAD_BUCKET (or CIRRUS_PAYLOAD_BUCKET) is required ${why}`);
  return config.payloadBucket;
}

/** The job definition for the function's runtime in the chosen flavour, or UnsupportedRuntimeError naming both. */
export function chooseDefinition(
  fn: TargetFunction,
  requested: BatchJobRequest['image'],
  config: DispatcherConfig,
): { image: JobImage; reason: string } {
  const { image: flavour, reason } = chooseImage(requested, fn, config.geoLayerPattern);
  const configured = Object.keys(config.jobDefinitions).sort().join(', ');
  if (fn.runtime === undefined)
    throw new UnsupportedRuntimeError(
      `function ${fn.jobArn} has no runtime (PackageType ${fn.packageType}); job definitions are configured for ${configured}`,
    );
  const definition = config.jobDefinitions[`${flavour}:${fn.runtime}`];
  if (definition === undefined)
    throw new UnsupportedRuntimeError(
      `no job definition for image ${flavour}:${fn.runtime} (runtime ${fn.runtime} of ${fn.jobArn}, image ${flavour} by ${reason}); configured: ${configured}`,
    );
  return {
    image: {
      kind: 'definition',
      flavour,
      runtime: fn.runtime,
      jobDefinition: withStackPrefix(definition, config.cirrusStack),
    },
    reason,
  };
}

/** Where the payload goes and what has to be written there (nothing yet: writes come after the claim). */
export interface Placement {
  payload: JobPayload;
  output: string;
  location: 'inline' | 's3' | 'url' | 'set';
  size?: number;
  /** one payload object to write */
  single?: { ref: PayloadRef; body: string };
  /** the items of a set to write */
  items?: { set: ItemSetRef; bodies: string[] };
}

/** `…/in/` → `…/out/`, the layout the dispatcher itself uses for sets; anything else needs an explicit url_out. */
function setOutput(url: string): string {
  const out = outputPrefixFor(url);
  if (out === undefined)
    throw new InvalidRequestError('url_out: is required for an item set url that does not end in /in/');
  return out;
}

export function place(
  req: BatchJobRequest,
  fn: TargetFunction,
  config: DispatcherConfig,
  id: string,
): Placement {
  const perJob = req.items_per_job ?? 1;
  if (req.url !== undefined) {
    if (req.item_count === undefined)
      return {
        payload: { kind: 'single', url: req.url },
        output: req.url_out ?? outputUrlFor(req.url),
        location: 'url',
      };
    const payload: JobPayload = { kind: 'set', url: req.url, itemCount: req.item_count, itemsPerJob: perJob };
    return { payload, output: req.url_out ?? setOutput(req.url), location: 'url' };
  }
  if (req.payloads !== undefined) {
    const set = itemSetRef(
      { bucket: payloadBucket(config, 'for payloads'), prefix: config.payloadPrefix },
      fn.name,
      id,
    );
    const bodies = req.payloads.map((p) => JSON.stringify(p));
    return {
      payload: { kind: 'set', url: set.url, itemCount: bodies.length, itemsPerJob: perJob },
      output: req.url_out ?? set.url_out,
      location: 'set',
      size: bodies.reduce((n, b) => n + Buffer.byteLength(b, 'utf8'), 0),
      items: { set, bodies },
    };
  }
  const body = JSON.stringify(req.payload);
  const size = Buffer.byteLength(body, 'utf8');
  const ref = payloadRef(
    { bucket: payloadBucket(config, 'for requests with a payload'), prefix: config.payloadPrefix },
    fn.name,
    id,
  );
  const output = req.url_out ?? ref.url_out;
  if (config.inlinePayloadLimit > 0 && size <= config.inlinePayloadLimit)
    return { payload: { kind: 'single', url: inlinePayloadUrl(body) }, output, location: 'inline', size };
  return { payload: { kind: 'single', url: ref.url }, output, location: 's3', size, single: { ref, body } };
}

export function planJob(
  req: BatchJobRequest,
  fn: TargetFunction,
  image: JobImage,
  placement: Placement,
  queue: string,
  idempotencyKey: string | undefined,
): JobPlan {
  return parseJobPlan({
    function: fn.jobArn,
    payload: placement.payload,
    output: placement.output,
    record: recordUrlFor(placement.output),
    name: req.name ?? jobNameFor(fn.name, fn.qualifier),
    queue,
    image,
    resources: { vcpus: req.vcpus, memory: req.memory, gpus: req.gpus },
    ...(req.timeout !== undefined ? { timeout: req.timeout } : {}),
    ...(req.attempts !== undefined ? { attempts: req.attempts } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  });
}
