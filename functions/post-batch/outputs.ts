// Where a job's url_out may point for post-batch to read it: the stack's payload prefix and the buckets of
// OutputBucketArns, as its role allows. A job of another stack, or one whose url_out was pointed elsewhere, is refused
// by name before anything is read, instead of being read wherever its parameters say.
import { ConfigError } from '../../lib/env.js';
import { globToRegExp } from '../../lib/glob.js';
import { hasDotSegment, parseS3Url } from '../../lib/s3-url.js';
import { InvalidJobError } from './errors.js';

export interface AllowedOutputs {
  /** the stack's payload place: `s3://<bucket>/<prefix>…` (PAYLOAD_BUCKET, PAYLOAD_PREFIX) */
  payload: { bucket: string; prefix: string } | undefined;
  /** OUTPUT_BUCKET_ARNS as given (`arn:aws:s3:::name`, globs allowed as IAM allows them) */
  bucketArns: string[];
}

const BUCKET_ARN = /^arn:aws[a-zA-Z-]*:s3:::([a-z0-9.*?-]{1,63})$/;

/** The allowed places, or undefined when none is configured (then the role alone decides, as before). */
export function allowedOutputs(
  bucket: string | undefined,
  prefix: string,
  bucketArns: string[],
): AllowedOutputs | undefined {
  for (const arn of bucketArns)
    if (!BUCKET_ARN.test(arn))
      throw new ConfigError(
        `OUTPUT_BUCKET_ARNS: ${JSON.stringify(arn)} is not a bucket ARN (arn:aws:s3:::name)`,
      );
  if (bucket === undefined && bucketArns.length === 0) return undefined;
  return { payload: bucket ? { bucket, prefix: prefix.replace(/^\/+/, '') } : undefined, bucketArns };
}

function describe(allowed: AllowedOutputs): string {
  const places = [
    ...(allowed.payload ? [`s3://${allowed.payload.bucket}/${allowed.payload.prefix}`] : []),
    ...allowed.bucketArns.map((a) => `s3://${BUCKET_ARN.exec(a)![1]}/`),
  ];
  return places.join(', ');
}

/**
 * Throws InvalidJobError unless `urlOut` (already an s3:// URL) is under an allowed place and holds no `.` or `..`
 * segment; the message names the URL and the places, so a job of another stack says so.
 */
export function checkOutput(jobId: string, urlOut: string, allowed: AllowedOutputs | undefined): void {
  const { bucket, key } = parseS3Url(urlOut);
  if (hasDotSegment(key))
    throw new InvalidJobError(
      `job ${jobId}: url_out ${urlOut} holds a . or .. segment; post-batch reads no such key`,
    );
  if (!allowed) return;
  const inPayload = allowed.payload?.bucket === bucket && key.startsWith(allowed.payload.prefix);
  const inOther = allowed.bucketArns.some((arn) => globToRegExp(BUCKET_ARN.exec(arn)![1]!).test(bucket));
  if (!inPayload && !inOther)
    throw new InvalidJobError(
      `job ${jobId}: url_out ${urlOut} is outside the places this post-batch reads (${describe(allowed)}): ` +
        "a job of another stack, or a url_out in a bucket missing from the stack's OutputBucketArns",
    );
}
