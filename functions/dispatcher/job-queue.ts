// The queue a job goes to: an arm64 function's needs hosts that run arm64, so it goes to the arm64 queue, and with
// none it is refused before anything is written.
import { Architecture } from '../../lib/architecture.js';
import { UnsupportedRuntimeError } from '../../lib/errors.js';
import type { DispatcherConfig } from './config.js';

/**
 * The queue of a function's job: the request's when it names one (the caller knows where it sends it); else, for an
 * arm64 function, JOB_QUEUE_ARM64, and none is UnsupportedRuntimeError (an x86_64 queue's hosts cannot run it);
 * else JOB_QUEUE (`checked`, which the request check settled).
 */
export function jobQueueFor(
  fn: { jobArn: string; architecture: string },
  requested: string | undefined,
  checked: string,
  config: Pick<DispatcherConfig, 'jobQueueArm64'>,
): string {
  if (requested !== undefined || fn.architecture !== Architecture.arm64) return checked;
  if (config.jobQueueArm64 !== undefined) return config.jobQueueArm64;
  throw new UnsupportedRuntimeError(
    `function ${fn.jobArn} is built for arm64 and this dispatcher has no arm64 job queue (JOB_QUEUE_ARM64 is unset: the stack's queues are x86_64 only); give the stack an arm64 queue, rebuild the function for x86_64, or name a queue that runs arm64 in the request`,
  );
}
