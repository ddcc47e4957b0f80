// Which image runs a request's job, chosen here and nowhere else. A zip function runs in a run-lambda image: its
// flavour is the request's `image`, else the function's `batch:image` tag, else geolambda for a GDAL layer, else
// lambda; the image is that flavour for the function's runtime, named by its job definition. A container-image
// function runs its own image beside the runner, by the two-container definition registered for its digest
// (function-image-job.ts).
import { UnsupportedRuntimeError } from '../../lib/errors.js';
import { type ImageName, Images, type JobImage } from '../../lib/job-plan.js';
import type { BatchJobRequest } from '../../lib/request.js';
import type { DispatcherConfig } from './config.js';
import { type FunctionImageJobOptions, functionImageJob } from './function-image-job.js';
import type { TargetFunction } from './functions.js';
import { configuredImages, definitionKey, jobDefinitionFor } from './job-definition-names.js';

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

/** The image that runs the request's job (UnsupportedRuntimeError and friends before anything is written). */
export async function chooseJobImage(
  req: BatchJobRequest,
  fn: TargetFunction,
  options: FunctionImageJobOptions,
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
