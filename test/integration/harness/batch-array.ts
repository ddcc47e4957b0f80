// Runs an array job's children the way Batch would (moto's Batch runs none): the array size from the SubmitJob
// request in the front's log, each child a container of its own (batch-exec.ts) with AWS_BATCH_JOB_ARRAY_INDEX, several
// at once up to a bound.
import { type ExecuteJobOptions, executeJob, type JobResult, submitRequest } from './batch-exec.js';
import type { Harness } from './index.js';

export interface ArrayChildResult extends JobResult {
  index: number;
}

export interface ExecuteArrayOptions {
  /** children running at once (default 4: the machines here have 2 cores and moto answers for all of them) */
  parallel?: number;
  /** which children to run (default all of them, 0 to size-1) */
  only?: number[];
  /** each child's options: its own cache and /opt (a fresh container), an attempt, a stop */
  child?: (index: number) => ExecuteJobOptions;
}

/** The array size `jobId` was submitted with (undefined for a plain job). */
export function arraySizeOf(h: Harness, jobId: string): number | undefined {
  return submitRequest(h, jobId)?.arrayProperties?.size;
}

/**
 * Runs the children of array job `jobId`; resolves with each child's result, in index order.
 * @example
 *   const children = await executeArrayJob(h, answer.job_id, { child: (i) => ({ env: { RUN_LAMBDA_CACHE_DIR: … } }) });
 *   assert.ok(children.every((c) => c.exitCode === 0));
 */
export async function executeArrayJob(
  h: Harness,
  jobId: string,
  opts: ExecuteArrayOptions = {},
): Promise<ArrayChildResult[]> {
  const size = arraySizeOf(h, jobId);
  if (size === undefined)
    throw new Error(`job ${jobId} is not an array job (no arrayProperties.size submitted)`);
  const indexes = opts.only ?? Array.from({ length: size }, (_, i) => i);
  const results: ArrayChildResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < indexes.length) {
      const index = indexes[next++] as number;
      const own = opts.child?.(index) ?? {};
      const r = await executeJob(h, jobId, { ...own, array: { index, size } });
      results.push({ ...r, index });
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.parallel ?? 4, indexes.length) }, worker));
  return results.sort((a, b) => a.index - b.index);
}
