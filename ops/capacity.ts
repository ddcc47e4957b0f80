// Where a job may have run: the kinds of its queue's compute environments (Fargate, Fargate Spot, EC2, Spot), in the
// queue's order. Batch does not say which environment ran a job, so a queue of several kinds prices each.
import type { BatchClient } from '@aws-sdk/client-batch';
import type { Capacity } from './cost.js';
import { aws } from './errors.js';

const KINDS: readonly string[] = ['FARGATE', 'FARGATE_SPOT', 'EC2', 'SPOT'];

/** The kinds of `queue`'s compute environments; an UNMANAGED one is EC2 (instances of your own). */
export async function queueCapacity(
  batch: BatchClient,
  queue: string,
  platforms: string[],
): Promise<Capacity[]> {
  const { DescribeComputeEnvironmentsCommand, DescribeJobQueuesCommand } = await import(
    '@aws-sdk/client-batch'
  );
  const q = await aws(`describe job queue ${queue}`, () =>
    batch.send(new DescribeJobQueuesCommand({ jobQueues: [queue] })),
  );
  const order = [...(q.jobQueues?.[0]?.computeEnvironmentOrder ?? [])].sort(
    (a, b) => (a.order ?? 0) - (b.order ?? 0),
  );
  const arns = order.map((o) => o.computeEnvironment ?? '').filter(Boolean);
  if (arns.length === 0) return [];
  const ces = await aws(`describe the compute environments of ${queue}`, () =>
    batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: arns })),
  );
  const kinds = arns.map((arn) => {
    const ce = ces.computeEnvironments?.find(
      (c) => c.computeEnvironmentArn === arn || c.computeEnvironmentName === arn,
    );
    const type = ce?.type === 'UNMANAGED' ? 'EC2' : (ce?.computeResources?.type ?? 'EC2');
    return (KINDS.includes(type) ? type : 'EC2') as Capacity;
  });
  // A job that says it ran on Fargate (or on EC2) can only have run on environments of that platform.
  const fargate = platforms.includes('FARGATE');
  const ec2 = platforms.includes('EC2');
  const fits = kinds.filter((k) =>
    fargate ? k.startsWith('FARGATE') : ec2 ? !k.startsWith('FARGATE') : true,
  );
  return [...new Set(fits.length > 0 ? fits : kinds)];
}
