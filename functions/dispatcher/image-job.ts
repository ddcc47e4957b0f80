// A container-image function's job (DESIGN.md "Image functions"): checked (nothing written when refused), then its
// two-container definition found or registered once, and what each submission adds to the function's container.
import { randomBytes } from 'node:crypto';
import type { JobImage } from '../../lib/job-plan.js';
import type { JsonLogger } from '../../lib/logger.js';
import { definitionLockKey } from '../../lib/payload-store.js';
import type { BatchJobRequest } from '../../lib/request.js';
import type { DispatchDeps } from './dispatch.js';
import { checkFunctionImage, functionEnvironment, functionImageDefinition } from './function-image.js';
import type { TargetFunction } from './functions.js';
import { ensureDefinition } from './job-definitions.js';
import { payloadBucket } from './plan.js';

/** Lambda's log stream name form (`2026/01/31/[$LATEST]<32 hex>`), one per job as one per execution environment. */
function logStreamName(now: Date, version: string): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '/')}/[${version}]${randomBytes(16).toString('hex')}`;
}

/**
 * A container-image function's job: checked (nothing written when refused), then its two-container definition
 * found or registered once (DESIGN.md "Image functions").
 */
export async function functionImageJob(
  req: BatchJobRequest,
  fn: TargetFunction,
  deps: DispatchDeps,
  log: JsonLogger,
): Promise<{ image: JobImage; reason: string }> {
  const settings = deps.config.imageFunctions;
  const image = checkFunctionImage(fn, req, settings);
  const bucket = payloadBucket(
    deps.config,
    'for image functions (their job definitions are registered under a lock there)',
  );
  const { environment, dropped } = functionEnvironment(fn, image);
  if (dropped.length > 0)
    log.warn("ignoring the function's RUN_LAMBDA_* variables: they are the runner's own settings", {
      variables: dropped,
    });
  const def = functionImageDefinition(fn, image, environment, settings!);
  const ensured = await ensureDefinition(
    {
      batch: deps.batch,
      s3: deps.s3,
      lock: { bucket, key: definitionLockKey(deps.config.payloadPrefix, fn.name, def.name, def.spec) },
      log,
      ...(deps.clock ? { clock: deps.clock } : {}),
    },
    def,
  );
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
