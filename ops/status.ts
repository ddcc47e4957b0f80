// `lambda-batch status <job-id | record-url>`: what happened to a job. Its Batch state; the plan it carries; for one
// payload its run record; for an item set how its items came out (items.ts); what it cost (cost.ts). The exit code
// says it: 0 the job and every item it should have produced succeeded, 1 the job or an item failed or is missing
// (whatever Batch's own status says), 75 the job has not finished.
import type { BatchClient } from '@aws-sdk/client-batch';
import type { S3Client } from '@aws-sdk/client-s3';
import { parentJobId } from '../lib/batch-job-id.js';
import { ItemIndexesError, itemRange, listedItems, parseItemIndexes } from '../lib/item-set.js';
import type { CarriedPlan } from '../lib/job-wire.js';
import type { RunRecord } from '../lib/run-record.js';
import { recordUrlFor } from '../lib/run-record.js';
import type { Clients } from './aws.js';
import { queueCapacity } from './capacity.js';
import { describeChildren } from './children.js';
import { architectureOf, type CostEstimate, estimateCost, type RunUsage, taskResources } from './cost.js';
import { describeDefinition } from './definition.js';
import { ExitCodes, NotOursError } from './errors.js';
import { count, type Io, type Progress, progress } from './io.js';
import { type ItemsOutcome, itemsOutcome } from './items.js';
import { carriedPlan, describeJob, isFinished, type JobView } from './job.js';
import { readText } from './objects.js';
import { readRecordAt, recordOfUrl } from './records.js';

export type Outcome = 'succeeded' | 'failed' | 'not finished';

/** A single payload's record as status shows it; `other_job` when it was written by another job (an earlier run). */
export interface RecordReport {
  url: string;
  record: RunRecord | null;
  other_job?: string;
}

export interface StatusReport {
  /** null for a run record written outside Batch (a local run) */
  job: JobView | null;
  plan: (CarriedPlan & { function: string; url: string; output: string }) | null;
  /** why the job carries no plan, when it does not */
  not_ours?: string;
  record?: RecordReport;
  items?: ItemsOutcome;
  cost?: { estimate: CostEstimate; capacity: string[]; architecture: string; region: string | undefined };
  outcome: Outcome;
  exitCode: number;
}

/** The indexes a job should have produced: its share of the set, or of its redrive's index list. */
export async function expectedItems(
  s3: S3Client,
  job: JobView,
  items: NonNullable<CarriedPlan['items']>,
): Promise<number[]> {
  let all: number[];
  if (items.indexes !== undefined) {
    const text = await readText(s3, items.indexes);
    if (text === undefined)
      throw new NotOursError(`job ${job.id} redrives the items of ${items.indexes}, which is gone`);
    try {
      all = parseItemIndexes(text, items.count);
    } catch (err) {
      if (err instanceof ItemIndexesError)
        throw new NotOursError(`the index list ${items.indexes} ${err.message}`);
      throw err;
    }
  } else all = Array.from({ length: items.count }, (_, i) => i);
  if (!job.child) return all;
  if (items.indexes !== undefined) return listedItems(job.child.index, items.perJob, all);
  const { start, end } = itemRange(job.child.index, items.perJob, items.count);
  return all.slice(start, end);
}

/** Each run of the job (itself, or each child of an array job) with what it asked for; the definition fills gaps. */
async function usage(
  batch: BatchClient,
  job: JobView,
  say: Progress,
): Promise<{ runs: RunUsage[]; arch: string }> {
  const runs = job.array
    ? await describeChildren(batch, job, (n, of) => say.say(`described ${count(n)} of ${count(of)} children`))
    : [job];
  const needDefinition = job.architecture === undefined || runs.some((r) => r.containers.length === 0);
  const def = needDefinition ? await describeDefinition(batch, job.definition) : undefined;
  const fallback = taskResources(def?.containers.map((c) => c.resources) ?? []);
  return {
    runs: runs.map((r) => {
      const own = taskResources(r.containers.map((c) => c.resources));
      return { attempts: r.attempts, resources: { ...fallback, ...own } };
    }),
    arch: job.architecture ?? def?.architecture ?? 'X86_64',
  };
}

async function costOf(clients: Clients, job: JobView, io: Io, say: Progress): Promise<StatusReport['cost']> {
  const batch = await clients.batch();
  const { runs, arch } = await usage(batch, job, say);
  const capacity = await queueCapacity(batch, job.queue, job.platforms);
  const architecture = architectureOf(arch);
  return {
    estimate: estimateCost(runs, capacity, architecture, io.now()),
    capacity,
    architecture,
    region: clients.region,
  };
}

function outcomeOf(report: Omit<StatusReport, 'outcome' | 'exitCode'>): Outcome {
  if (report.job && !isFinished(report.job.status)) return 'not finished';
  if (report.job?.status === 'FAILED') return 'failed';
  if (report.items) return report.items.failed + report.items.missing > 0 ? 'failed' : 'succeeded';
  if (report.record)
    return report.record.record?.status === 'succeeded' && !report.record.other_job ? 'succeeded' : 'failed';
  return report.job?.status === 'SUCCEEDED' ? 'succeeded' : 'failed';
}

const EXIT: Record<Outcome, number> = {
  succeeded: ExitCodes.ok,
  failed: ExitCodes.failed,
  'not finished': ExitCodes.notFinished,
};

/** The single payload's record beside its output, and whether this job wrote it. */
async function singleRecord(s3: S3Client, job: JobView, output: string): Promise<RecordReport | undefined> {
  if (!output.startsWith('s3://')) return undefined;
  const url = recordUrlFor(output);
  const record = (await readRecordAt(s3, url)) ?? null;
  const by = record?.batch?.job_id;
  const mine = by === undefined || parentJobId(by) === parentJobId(job.id);
  return { url, record, ...(mine ? {} : { other_job: by }) };
}

/** The report for job `jobId`, read through `clients`. */
export async function jobStatus(
  clients: Clients,
  jobId: string,
  io: Io,
  showProgress: boolean,
): Promise<StatusReport> {
  const say = progress(io, showProgress);
  try {
    const [batch, s3] = [await clients.batch(), await clients.s3()];
    const job = await describeJob(batch, jobId, clients.region);
    let plan: StatusReport['plan'] = null;
    const report: Omit<StatusReport, 'outcome' | 'exitCode'> = { job, plan };
    try {
      plan = carriedPlan(job);
      report.plan = plan;
    } catch (err) {
      if (!(err instanceof NotOursError)) throw err;
      report.not_ours = err.message;
    }
    if (plan?.items)
      report.items = await itemsOutcome(s3, plan.output, await expectedItems(s3, job, plan.items), {
        listed: (n) => say.say(`listed ${count(n)} objects under ${plan!.output}`),
        read: (n, of) => say.say(`read ${count(n)} of ${count(of)} failed items' records`),
      });
    else if (plan) {
      const record = await singleRecord(s3, job, plan.output);
      if (record) report.record = record;
    }
    report.cost = await costOf(clients, job, io, say);
    const outcome = outcomeOf(report);
    return { ...report, outcome, exitCode: EXIT[outcome] };
  } finally {
    say.done();
  }
}

/** The report for a run record's URL (or a set's output prefix): its job's, or the record's alone outside Batch. */
export async function recordStatus(
  clients: Clients,
  url: string,
  io: Io,
  showProgress: boolean,
): Promise<StatusReport> {
  const found = await recordOfUrl(await clients.s3(), url);
  const jobId = found.record.batch?.job_id;
  if (jobId !== undefined)
    return jobStatus(clients, found.isSet ? parentJobId(jobId) : jobId, io, showProgress);
  const outcome: Outcome = found.record.status === 'succeeded' ? 'succeeded' : 'failed';
  return {
    job: null,
    plan: null,
    record: { url: found.url, record: found.record },
    outcome,
    exitCode: EXIT[outcome],
  };
}
