// `lambda-batch redrive <job-id>`: for a finished item set, one new array job over exactly its failed and missing
// items: their indexes written beside the set (lib/item-set.ts's `redrive-<n>.json`), then the deployed dispatcher
// asked for the same function, queue, definition and resources with `item_indexes` and `redrive_of`, under a new
// idempotency key; for a single job, the same job again. The dispatcher's checks, idempotency and rate limit stay the
// one path a job takes. --dry-run prints the request and writes and submits nothing.
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { indexListUrl, parseIndexListName } from '../lib/item-set.js';
import { FUNCTION_CONTAINER } from '../lib/job-plan.js';
import type { BatchJobAnswer } from '../lib/request.js';
import { recordUrlFor } from '../lib/run-record.js';
import type { Invocation } from './args.js';
import type { Clients } from './aws.js';
import type { OpsConfig } from './config.js';
import { definitionName, describeDefinition } from './definition.js';
import { dispatcherName, invokeDispatcher } from './dispatcher.js';
import { JobRunningError, NotOursError, OpsError, UsageError } from './errors.js';
import type { Io } from './io.js';
import { count, progress } from './io.js';
import { itemsOutcome, listNames } from './items.js';
import { carriedPlan, describeJob, isFinished, type JobView } from './job.js';
import { writeNew } from './objects.js';
import { readRecordAt } from './records.js';
import { expectedItems } from './status.js';

/** Tries at a free list name when another redrive takes the same number at the same moment. */
const LIST_TRIES = 5;

export interface RedriveReport {
  redrive_of: string;
  /** nothing failed or is missing: nothing was submitted */
  nothing: boolean;
  dry_run: boolean;
  /** a set's items to run again, and where their list is (or would be) */
  indexes?: { failed: number[]; missing: number[]; list: string };
  request?: Record<string, unknown>;
  answer?: BatchJobAnswer;
  /** the original job's definition, when the dispatcher chose another */
  definition_changed?: { was: string; now: string };
}

/** What the job ran with that a request can say again: queue, name, resources, limits, image flavour. */
async function sameJob(clients: Clients, job: JobView): Promise<Record<string, unknown>> {
  const def = await describeDefinition(await clients.batch(), job.definition);
  const fn = job.multiContainer
    ? job.containers.find((c) => c.name === FUNCTION_CONTAINER)
    : job.containers[0];
  const own = { ...def?.containers.find((c) => c.name === fn?.name)?.resources, ...fn?.resources };
  const image = job.multiContainer ? undefined : def?.containers[0]?.image;
  const flavour =
    image && /geolambda/.test(image) ? 'geolambda' : image && /run-lambda/.test(image) ? 'lambda' : undefined;
  return {
    queue: job.queue,
    name: job.name,
    ...(own.vcpus !== undefined ? { vcpus: own.vcpus } : {}),
    ...(own.memoryMiB !== undefined ? { memory: own.memoryMiB } : {}),
    ...(own.gpus !== undefined ? { gpus: own.gpus } : {}),
    ...(job.timeoutSeconds !== undefined ? { timeout: job.timeoutSeconds } : {}),
    ...(job.retryAttempts !== undefined ? { attempts: job.retryAttempts } : {}),
    ...(flavour ? { image: flavour } : {}),
  };
}

/** The next free `redrive-<n>.json` of the set at `setUrl` (1 when it has none). */
async function nextListNumber(s3: S3Client, setUrl: string): Promise<number> {
  const taken = (await listNames(s3, `${setUrl}redrive-`)).map(
    (n) => parseIndexListName(`redrive-${n}`) ?? 0,
  );
  return Math.max(0, ...taken) + 1;
}

/** Writes the list at the next free name; returns its URL. */
async function writeList(s3: S3Client, setUrl: string, indexes: number[]): Promise<string> {
  let n = await nextListNumber(s3, setUrl);
  for (let tries = 0; tries < LIST_TRIES; tries++, n++) {
    const url = indexListUrl(setUrl, n);
    if (await writeNew(s3, url, `${JSON.stringify(indexes)}\n`)) return url;
  }
  throw new OpsError(`could not find a free index list name under ${setUrl} after ${LIST_TRIES} tries`);
}

/** A set's request: its failed and missing items, or undefined when there are none. */
async function setRequest(
  s3: S3Client,
  job: JobView,
  plan: ReturnType<typeof carriedPlan>,
  inv: Invocation,
  io: Io,
): Promise<Pick<RedriveReport, 'indexes' | 'request'> | undefined> {
  const items = plan.items!;
  const say = progress(io, inv.progress || io.errIsTty);
  const outcome = await itemsOutcome(s3, plan.output, await expectedItems(s3, job, items), {
    listed: (n) => say.say(`listed ${count(n)} objects under ${plan.output}`),
    read: (n, of) => say.say(`read ${count(n)} of ${count(of)} failed items' records`),
  }).finally(() => say.done());
  const indexes = [...outcome.failedItems, ...outcome.missingItems].sort((a, b) => a - b);
  if (indexes.length === 0) return undefined;
  if (!plan.url.startsWith('s3://'))
    throw new NotOursError(`job ${job.id}'s item set ${plan.url} is not in S3`);
  const list = inv.dryRun
    ? indexListUrl(plan.url, await nextListNumber(s3, plan.url))
    : await writeList(s3, plan.url, indexes);
  return {
    indexes: { failed: outcome.failedItems, missing: outcome.missingItems, list },
    request: {
      url: plan.url,
      item_count: items.count,
      items_per_job: items.perJob,
      item_indexes: list,
      url_out: plan.output,
    },
  };
}

/** A single job's request (its payload URL, or an inline payload as it was), or undefined when it succeeded. */
async function singleRequest(
  s3: S3Client,
  job: JobView,
  plan: ReturnType<typeof carriedPlan>,
): Promise<Pick<RedriveReport, 'indexes' | 'request'> | undefined> {
  const record = plan.output.startsWith('s3://')
    ? await readRecordAt(s3, recordUrlFor(plan.output))
    : undefined;
  if (job.status === 'SUCCEEDED' && record?.status === 'succeeded') return undefined;
  const inline = /^data:application\/json;base64,(.*)$/.exec(plan.url);
  const payload = inline
    ? { payload: JSON.parse(Buffer.from(inline[1]!, 'base64').toString('utf8')) }
    : { url: plan.url };
  return { request: { ...payload, url_out: plan.output } };
}

/** Runs the command: the report of what was (or would be) submitted. */
export async function redrive(
  inv: Invocation,
  config: OpsConfig,
  clients: Clients,
  io: Io,
): Promise<RedriveReport> {
  const dispatcher = inv.dryRun ? config.dispatcher : dispatcherName(config.dispatcher, 'redrive');
  const job = await describeJob(await clients.batch(), inv.job!.id, clients.region);
  if (job.child)
    throw new UsageError(
      `${job.id} is a child of ${job.child.parent}: redrive the array job, which runs its failed items`,
    );
  if (!isFinished(job.status))
    throw new JobRunningError(
      `job ${job.id} is ${job.status}: a redrive runs what a finished job left failed or missing; wait for it to end, or stop it with lambda-batch cancel ${job.id}`,
    );
  const plan = carriedPlan(job);
  const s3 = await clients.s3();
  const part = plan.items ? await setRequest(s3, job, plan, inv, io) : await singleRequest(s3, job, plan);
  const report: RedriveReport = { redrive_of: job.id, nothing: part === undefined, dry_run: inv.dryRun };
  if (!part) return report;
  const n = part.indexes
    ? /redrive-(\d+)\.json$/.exec(part.indexes.list)![1]
    : randomBytes(4).toString('hex');
  report.request = {
    lambda_function: plan.function,
    ...part.request,
    ...(await sameJob(clients, job)),
    redrive_of: job.id,
    idempotency_key: `redrive-${job.id}-${n}`,
  };
  if (part.indexes) report.indexes = part.indexes;
  if (inv.dryRun || dispatcher === undefined) return report;
  report.answer = await invokeDispatcher(clients, dispatcher, report.request);
  const was = definitionName(job.definition);
  const now = definitionName(report.answer.job_definition);
  if (was !== now) report.definition_changed = { was, now };
  return report;
}

/** The report as lines for people. */
export function redriveLines(r: RedriveReport): string[] {
  if (r.nothing) return [`nothing to redrive: every item job ${r.redrive_of} should have produced succeeded`];
  const lines: string[] = [];
  const ix = r.indexes;
  if (ix) {
    const all = [...ix.failed, ...ix.missing].sort((a, b) => a - b);
    lines.push(
      `redrive of ${r.redrive_of}: ${count(all.length)} items (${count(ix.failed.length)} failed, ${count(ix.missing.length)} missing): ${all.slice(0, 20).join(', ')}${all.length > 20 ? ', …' : ''}`,
      `index list ${ix.list}${r.dry_run ? ' (not written: --dry-run)' : ''}`,
    );
  } else lines.push(`redrive of ${r.redrive_of}: the job again`);
  if (r.dry_run) lines.push('would send the dispatcher:', JSON.stringify(r.request, null, 2));
  const a = r.answer;
  if (a) {
    const shape = a.array_size && a.array_size > 1 ? `array of ${a.array_size} children` : 'one job';
    lines.push(`submitted job ${a.job_id} (${a.job_name}, ${shape}, definition ${a.job_definition})`);
    lines.push(`follow it: lambda-batch status ${a.job_id}`);
  }
  if (r.definition_changed)
    lines.push(
      `note: the dispatcher chose job definition ${r.definition_changed.now}; the job redriven ran ${r.definition_changed.was}`,
    );
  return lines;
}
