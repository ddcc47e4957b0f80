// A container-image function's job, decided before anything is written: the function checked (function-image.ts),
// its two-container definition built (function-image-definition.ts) and found or registered once under a lock
// (job-definitions.ts), and what each submission adds to the function's container (its log stream).
import { randomBytes } from 'node:crypto';
import type { BatchClient } from '@aws-sdk/client-batch';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobImage } from '../../lib/job-plan.js';
import type { JsonLogger } from '../../lib/logger.js';
import { definitionLockKey } from '../../lib/payload-keys.js';
import type { BatchJobRequest } from '../../lib/request.js';
import { type DispatcherConfig, payloadBucket } from './config.js';
import { checkFunctionImage, functionEnvironment } from './function-image.js';
import { functionImageDefinition } from './function-image-definition.js';
import type { TargetFunction } from './functions.js';
import { ensureDefinition } from './job-definitions.js';
import type { Clock } from './rate-limit.js';

/** What choosing an image function's image takes: its definition may have to be registered under a lock. */
export interface FunctionImageJobOptions {
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
  options: FunctionImageJobOptions,
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
