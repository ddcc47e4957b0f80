// Which image runs a request's job, chosen here and nowhere else. A zip function runs in a run-lambda image: its
// flavour is the request's `image`, else the function's `batch:image` tag, else geolambda for a GDAL layer, else
// lambda; the image is that flavour for the function's runtime, named by its job definition. A container-image
// function runs its own image beside the runner, by the two-container definition registered for its digest
// (function-image.ts builds it, job-definitions.ts registers it once).
import { randomBytes } from 'node:crypto';
import type { BatchClient } from '@aws-sdk/client-batch';
import type { S3Client } from '@aws-sdk/client-s3';
import { UnsupportedRuntimeError } from '../../lib/errors.js';
import { type ImageName, Images, type JobImage } from '../../lib/job-plan.js';
import type { JsonLogger } from '../../lib/logger.js';
import { definitionLockKey } from '../../lib/payload-keys.js';
import type { BatchJobRequest } from '../../lib/request.js';
import { type DispatcherConfig, payloadBucket } from './config.js';
import { checkFunctionImage, functionEnvironment } from './function-image.js';
import { functionImageDefinition } from './function-image-definition.js';
import type { TargetFunction } from './functions.js';
import { configuredImages, definitionKey, jobDefinitionFor } from './job-definition-names.js';
import { ensureDefinition } from './job-definitions.js';
import type { Clock } from './rate-limit.js';

export const IMAGE_TAG = 'batch:image';

/** A flavour, and why it was chosen (for the debug log): `request`, `tag batch:image=…`, `layer <arn>` or `default`. */
export interface FlavourChoice {
  image: ImageName;
  reason: string;
}

function isFlavour(s: string | undefined): s is ImageName {
  return s !== undefined && (Images as readonly string[]).includes(s);
}

/** The run-lambda flavour: the request's choice, then the `batch:image` tag, then a GDAL layer, then plain lambda. */
export function chooseFlavour(
  requested: ImageName | undefined,
  fn: Pick<TargetFunction, 'tags' | 'layerArns'>,
  geoLayerPattern: RegExp,
): FlavourChoice {
  if (requested) return { image: requested, reason: 'request' };
  const tag = fn.tags[IMAGE_TAG]?.trim().toLowerCase();
  if (isFlavour(tag)) return { image: tag, reason: `tag ${IMAGE_TAG}=${tag}` };
  const geo = fn.layerArns.find((arn) => geoLayerPattern.test(arn));
  if (geo) return { image: 'geolambda', reason: `layer ${geo}` };
  return {
    image: 'lambda',
    reason:
      tag === undefined ? 'default' : `default (tag ${IMAGE_TAG}=${fn.tags[IMAGE_TAG]} is not an image)`,
  };
}

/**
 * The job definition for the function's runtime and architecture in the chosen flavour (job-definition-names.ts), or
 * UnsupportedRuntimeError naming the image and the architecture.
 */
export function chooseDefinition(
  fn: TargetFunction,
  requested: BatchJobRequest['image'],
  config: DispatcherConfig,
): { image: JobImage; reason: string } {
  const { image: flavour, reason } = chooseFlavour(requested, fn, config.geoLayerPattern);
  if (fn.runtime === undefined)
    throw new UnsupportedRuntimeError(
      `function ${fn.jobArn} has no runtime (PackageType ${fn.packageType}); job definitions are configured for ${configuredImages(config)}`,
    );
  const jobDefinition = jobDefinitionFor(config, flavour, fn.runtime, fn.architecture);
  if (jobDefinition === undefined)
    throw new UnsupportedRuntimeError(
      `no job definition for image ${flavour}:${fn.runtime} on ${fn.architecture} (key ${definitionKey(flavour, fn.runtime, fn.architecture)}; runtime ${fn.runtime} and architecture ${fn.architecture} of ${fn.jobArn}, image ${flavour} by ${reason}); configured: ${configuredImages(config)}`,
    );
  return { image: { kind: 'definition', flavour, runtime: fn.runtime, jobDefinition }, reason };
}

/** What choosing an image function's image takes: its definition may have to be registered under a lock. */
export interface JobImageOptions {
  config: DispatcherConfig;
  s3: S3Client;
  batch: BatchClient;
  log: JsonLogger;
  clock?: Clock;
}

/** Lambda's log stream name form (`2026/01/31/[$LATEST]<32 hex>`), one per job as one per execution environment. */
function logStreamName(now: Date, version: string): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '/')}/[${version}]${randomBytes(16).toString('hex')}`;
}

/**
 * A container-image function's job: checked (nothing written when refused), then its two-container definition
 * found or registered once, and what each submission adds to the function's container (its log stream).
 */
export async function functionImageJob(
  req: Pick<BatchJobRequest, 'image' | 'gpus'>,
  fn: TargetFunction,
  options: JobImageOptions,
): Promise<{ image: JobImage; reason: string }> {
  const { config, log } = options;
  const image = checkFunctionImage(fn, req, config.imageFunctions);
  const bucket = payloadBucket(
    config,
    'for image functions (their job definitions are registered under a lock there)',
  );
  const { environment, dropped } = functionEnvironment(fn, image);
  if (dropped.length > 0)
    log.warn("ignoring the function's RUN_LAMBDA_* variables: they are the runner's own settings", {
      variables: dropped,
    });
  const def = functionImageDefinition(fn, image, environment, config.imageFunctions!);
  const lock = { bucket, key: definitionLockKey(config.payloadPrefix, fn.name, def.name, def.spec) };
  const ensured = await ensureDefinition({ ...options, lock }, def);
  return {
    image: {
      kind: 'function-image',
      flavour: 'lambda',
      image: image.resolved,
      jobDefinition: ensured.arn,
      environment: [{ name: 'AWS_LAMBDA_LOG_STREAM_NAME', value: logStreamName(new Date(), image.version) }],
    },
    reason: `container image (job definition ${ensured.how})`,
  };
}

/** The image that runs the request's job (UnsupportedRuntimeError and friends before anything is written). */
export async function chooseJobImage(
  req: BatchJobRequest,
  fn: TargetFunction,
  options: JobImageOptions,
): Promise<JobImage> {
  const { image, reason } =
    fn.packageType !== 'Image'
      ? chooseDefinition(fn, req.image, options.config)
      : await functionImageJob(req, fn, options);
  options.log.debug('image chosen', {
    image: image.flavour,
    ...(image.kind === 'definition' ? { runtime: image.runtime } : { function_image: image.image }),
    reason,
  });
  return image;
}
