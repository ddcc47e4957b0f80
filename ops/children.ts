// An array job's children, described. Child i of job `id` is `id:i` (Batch names them so), so the ids come from the
// array's size and DescribeJobs takes them 100 at a time. ListJobs would page through them too, but with no status it
// lists only RUNNING children: all of them would take a listing per status, and a description each after that.
import type { BatchClient } from '@aws-sdk/client-batch';
import { mapBounded } from '../lib/pool.js';
import { aws } from './errors.js';
import { type JobView, jobView } from './job.js';

/** DescribeJobs' limit of ids per call. */
const PER_CALL = 100;
/** DescribeJobs calls in flight: enough to hide the latency of 100 calls for 10,000 children. */
const IN_FLIGHT = 8;

/** The children of `parent` (an array job), in index order; `onProgress` is told how many are described so far. */
export async function describeChildren(
  batch: BatchClient,
  parent: JobView,
  onProgress?: (described: number, of: number) => void,
): Promise<JobView[]> {
  const size = parent.array?.size ?? 0;
  const chunks: string[][] = [];
  for (let i = 0; i < size; i += PER_CALL)
    chunks.push(Array.from({ length: Math.min(PER_CALL, size - i) }, (_, k) => `${parent.id}:${i + k}`));
  const { DescribeJobsCommand } = await import('@aws-sdk/client-batch');
  let described = 0;
  const pages = await mapBounded(chunks, IN_FLIGHT, async (ids) => {
    const out = await aws(`describe the children of ${parent.id}`, () =>
      batch.send(new DescribeJobsCommand({ jobs: ids })),
    );
    described += ids.length;
    onProgress?.(described, size);
    return (out.jobs ?? []).map(jobView);
  });
  return pages.flat().sort((a, b) => (a.child?.index ?? 0) - (b.child?.index ?? 0));
}
