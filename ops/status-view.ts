// A status report for people (lines) and for programs (one JSON document): the same facts, in the same order.
import { PRICES } from './cost.js';
import { count, iso } from './io.js';
import { FIRST_FEW } from './items.js';
import type { JobView } from './job.js';
import type { StatusReport } from './status.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function jobJson(job: JobView) {
  return {
    job_id: job.id,
    job_name: job.name,
    status: job.status,
    status_reason: job.statusReason ?? null,
    queue: job.queue,
    definition: job.definition,
    created_at: iso(job.createdAt),
    started_at: job.startedAt === undefined ? null : iso(job.startedAt),
    stopped_at: job.stoppedAt === undefined ? null : iso(job.stoppedAt),
    ...(job.array ? { array: { size: job.array.size, status_summary: job.array.summary } } : {}),
    ...(job.child ? { child: { parent: job.child.parent, index: job.child.index } } : {}),
    multi_container: job.multiContainer,
    containers: job.containers.map((c) => ({
      name: c.name,
      exit_code: c.exitCode ?? null,
      reason: c.reason ?? null,
      log_stream: c.logStreamName ?? null,
    })),
    attempts: job.attempts.length,
  };
}

/** The report as one JSON value (what --json prints). */
export function statusJson(r: StatusReport) {
  const p = r.plan;
  const rec = r.record;
  const cost = r.cost;
  return {
    job: r.job ? jobJson(r.job) : null,
    ...(p
      ? {
          function: p.function,
          url: p.url,
          url_out: p.output,
          ...(p.items
            ? {
                item_count: p.items.count,
                items_per_job: p.items.perJob,
                item_indexes: p.items.indexes ?? null,
              }
            : {}),
          redrive_of: p.redriveOf ?? null,
        }
      : {}),
    ...(r.not_ours ? { not_ours: r.not_ours } : {}),
    ...(rec
      ? {
          record: {
            url: rec.url,
            ...(rec.other_job ? { other_job: rec.other_job } : {}),
            ...recordJson(rec),
          },
        }
      : {}),
    ...(r.items
      ? {
          items: {
            expected: r.items.expected,
            succeeded: r.items.succeeded,
            failed: r.items.failed,
            missing: r.items.missing,
            failed_by_type: r.items.byType,
            failed_items: r.items.failedItems,
            missing_items: r.items.missingItems,
          },
        }
      : {}),
    ...(cost
      ? {
          cost: {
            estimate: true,
            vcpu_seconds: round(cost.estimate.vcpuSeconds),
            gib_seconds: round(cost.estimate.gibSeconds),
            attempts: cost.estimate.attempts,
            uncounted_attempts: cost.estimate.uncounted,
            capacity: cost.capacity,
            architecture: cost.architecture,
            dollars: cost.estimate.dollars.map((d) => ({ ...d, usd: Number(d.usd.toFixed(6)) })),
            prices: { region: PRICES.region, source: PRICES.source, retrieved: PRICES.retrieved },
          },
        }
      : {}),
    outcome: r.outcome,
    exit_code: r.exitCode,
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function recordJson(rec: NonNullable<StatusReport['record']>) {
  const r = rec.record;
  if (!r) return { status: null };
  return {
    status: r.status,
    exit_code: r.exit_code,
    error: r.error ? { type: r.error.errorType, message: r.error.errorMessage } : null,
    timings: r.timings,
    result_url: r.result?.url ?? null,
    job_id: r.batch?.job_id ?? null,
    redrive_of: r.redrive_of ?? null,
  };
}

function jobLines(job: JobView): string[] {
  const shape = job.array
    ? `array job of ${count(job.array.size)} children`
    : job.child
      ? `child ${job.child.index} of ${job.child.parent}`
      : job.multiContainer
        ? `one task of ${job.containers.length} containers`
        : 'one container';
  const lines = [`job       ${job.id}  ${job.name}  (${shape})`];
  lines.push(`state     ${job.status}${job.statusReason ? `: ${job.statusReason}` : ''}`);
  if (job.array) {
    const summary = Object.entries(job.array.summary).filter(([, n]) => n > 0);
    if (summary.length > 0) lines.push(`children  ${summary.map(([s, n]) => `${count(n)} ${s}`).join(', ')}`);
  }
  if (job.multiContainer)
    for (const c of job.containers)
      lines.push(
        `container ${c.name}: ${c.exitCode === undefined ? 'no exit code' : `exit ${c.exitCode}`}${c.reason ? ` (${c.reason})` : ''}`,
      );
  // An array job's attempts are its children's (the cost line counts them); the parent has none of its own.
  const attempts = job.array ? '' : `, ${job.attempts.length} attempt(s)`;
  if (job.startedAt !== undefined)
    lines.push(
      `ran       ${iso(job.startedAt)} to ${job.stoppedAt === undefined ? 'now' : iso(job.stoppedAt)}${attempts}`,
    );
  return lines;
}

function itemLines(r: StatusReport): string[] {
  const items = r.items!;
  const lines = [
    `items     ${count(items.expected)} under ${r.plan!.output}: ${count(items.succeeded)} succeeded, ${count(items.failed)} failed, ${count(items.missing)} missing`,
  ];
  for (const g of items.byType)
    lines.push(
      `  ${g.type} ×${count(g.count)}: ${g.first.join(', ')}${g.count > g.first.length ? ', …' : ''}  (${JSON.stringify(g.message.slice(0, 100))})`,
    );
  if (items.missing > 0)
    lines.push(
      `  missing ×${count(items.missing)}: ${items.missingItems.slice(0, FIRST_FEW).join(', ')}${items.missing > FIRST_FEW ? ', …' : ''}`,
    );
  return lines;
}

function recordLines(rec: NonNullable<StatusReport['record']>): string[] {
  const r = rec.record;
  if (!r) return [`record    none yet at ${rec.url}`];
  const lines = [`record    ${rec.url}: ${r.status}, exit ${r.exit_code}`];
  if (rec.other_job) lines.push(`  written by job ${rec.other_job}, not this one (an earlier run)`);
  if (r.error) lines.push(`  error   ${r.error.errorType}: ${r.error.errorMessage}`);
  const t = r.timings;
  lines.push(
    `  timings started ${t.started}, finished ${t.finished} (${seconds(Date.parse(t.finished) - Date.parse(t.started))})`,
  );
  if (r.result) lines.push(`  result  ${r.result.url} (${count(r.result.bytes)} bytes)`);
  if (r.redrive_of) lines.push(`  redrives job ${r.redrive_of}`);
  return lines;
}

function costLines(cost: NonNullable<StatusReport['cost']>): string[] {
  const e = cost.estimate;
  const head = `cost      ${round(e.vcpuSeconds)} vCPU-s, ${round(e.gibSeconds)} GiB-s over ${e.attempts} attempt(s)`;
  const lines = [e.uncounted > 0 ? `${head} (${e.uncounted} not counted: no start time or resources)` : head];
  for (const d of e.dollars) lines.push(`  ≈ $${d.usd.toFixed(4)} on ${d.capacity} (${d.architecture})`);
  if (e.dollars.length > 0)
    lines.push(
      `  an estimate: ${PRICES.region} prices of ${PRICES.retrieved}${cost.region && cost.region !== PRICES.region ? ` (the job ran in ${cost.region})` : ''}, a one-minute minimum per task`,
    );
  if (cost.capacity.some((c) => !c.startsWith('FARGATE')))
    lines.push('  on EC2 compute: vCPU- and GiB-seconds only (the instances are priced, not the jobs)');
  return lines;
}

/** The report as lines for people. */
export function statusLines(r: StatusReport): string[] {
  const lines = r.job ? jobLines(r.job) : ['job       none (the record was written outside Batch)'];
  if (r.plan) {
    lines.push(`function  ${r.plan.function}`);
    if (r.plan.redriveOf)
      lines.push(
        `redrives  ${r.plan.redriveOf}${r.plan.items?.indexes ? ` (items of ${r.plan.items.indexes})` : ''}`,
      );
  }
  if (r.not_ours) lines.push(`note      ${r.not_ours}`);
  if (r.items) lines.push(...itemLines(r));
  if (r.record) lines.push(...recordLines(r.record));
  if (r.cost) lines.push(...costLines(r.cost));
  if (r.job?.status === 'FAILED' && r.items && r.items.failed + r.items.missing === 0)
    lines.push("note      every item has its result now (a redrive's or a retry's); the job itself failed");
  lines.push(`outcome   ${r.outcome} (exit ${r.exitCode})`);
  return lines;
}
