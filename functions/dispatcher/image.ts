// Which image runs the function: the request's choice, then the `batch:image` tag, then a GDAL layer, then plain lambda.
import { type ImageName, Images } from '../../lib/request.js';
import type { TargetFunction } from './functions.js';

export const IMAGE_TAG = 'batch:image';

export interface ImageChoice {
  image: ImageName;
  /** Why, for the debug log: `request`, `tag batch:image=…`, `layer <arn>` or `default`. */
  reason: string;
}

function isImage(s: string | undefined): s is ImageName {
  return s !== undefined && (Images as readonly string[]).includes(s);
}

export function chooseImage(
  requested: ImageName | undefined,
  fn: Pick<TargetFunction, 'tags' | 'layerArns'>,
  geoLayerPattern: RegExp,
): ImageChoice {
  if (requested) return { image: requested, reason: 'request' };
  const tag = fn.tags[IMAGE_TAG]?.trim().toLowerCase();
  if (isImage(tag)) return { image: tag, reason: `tag ${IMAGE_TAG}=${tag}` };
  const geo = fn.layerArns.find((arn) => geoLayerPattern.test(arn));
  if (geo) return { image: 'geolambda', reason: `layer ${geo}` };
  return {
    image: 'lambda',
    reason:
      tag === undefined ? 'default' : `default (tag ${IMAGE_TAG}=${fn.tags[IMAGE_TAG]} is not an image)`,
  };
}
