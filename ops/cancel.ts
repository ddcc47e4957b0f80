// `lambda-batch cancel <job-id>`: TerminateJob on the job (Batch stops a running container with SIGTERM, cancels one not
// started yet), and on each of an array job's children that has not finished, so none is left to run.
import { mapBounded } from '../lib/pool.js';
import type { Invocation } from './args.js';
import type { Clients } from './aws.js';
import { describeChildren } from './children.js';
import { aws } from './errors.js';
import { describeJob, isFinished } from './job.js';

const IN_FLIGHT = 8;
export const DEFAULT_REASON = 'cancelled with lambda-batch';

export interface CancelReport {
  job_id: string;
  /** the job's status when it was asked */
  status: string;
  terminated: boolean;
  /** an array job: its children, and how many of them were still to finish (and so were terminated) */
  children?: { total: number; terminated: number; finished: number };
}

export async function cancel(inv: Invocation, clients: Clients): Promise<CancelReport> {
  const batch = await clients.batch();
  const { TerminateJobCommand } = await import('@aws-sdk/client-batch');
  const job = await describeJob(batch, inv.job!.id, clients.region);
  const reason = inv.reason ?? DEFAULT_REASON;
  const terminate = (id: string) =>
    aws(`terminate job ${id}`, () => batch.send(new TerminateJobCommand({ jobId: id, reason })));
  const report: CancelReport = { job_id: job.id, status: job.status, terminated: false };
  const children = job.array ? await describeChildren(batch, job) : [];
  const open = children.filter((c) => !isFinished(c.status));
  if (!isFinished(job.status) || open.length > 0) {
    await terminate(job.id);
    report.terminated = true;
  }
  await mapBounded(open, IN_FLIGHT, (c) => terminate(c.id));
  if (job.array)
    report.children = {
      total: children.length,
      terminated: open.length,
      finished: children.length - open.length,
    };
  return report;
}

export function cancelLines(r: CancelReport): string[] {
  if (!r.terminated) return [`job ${r.job_id} had already finished (${r.status}): nothing to cancel`];
  const c = r.children;
  return [
    `terminated job ${r.job_id} (it was ${r.status})${c ? `, and ${c.terminated} of its ${c.total} children (${c.finished} had finished)` : ''}`,
  ];
}
