// A Batch job as lambda-batch reads it, from DescribeJobs' JobDetail in one shape whatever the job is: a single
// container, an array job or one of its children, or a multi-container (ecsProperties) task. Its containers (the
// job's current ones) and its attempts (each attempt's containers), what each ran with, and the plan it carries.
import type {
  AttemptDetail,
  BatchClient,
  JobDetail,
  KeyValuePair,
  LogConfiguration,
  ResourceRequirement,
} from '@aws-sdk/client-batch';
import { parentJobId } from '../lib/batch-job-id.js';
import { type CarriedPlan, JobWireError, readJobPlan } from '../lib/job-wire.js';
import { aws, NotOursError, UnknownJobError } from './errors.js';

/** What a container asks for: vCPUs, memory in MiB, GPUs (undefined where neither job nor definition says). */
export interface Resources {
  vcpus?: number;
  memoryMiB?: number;
  gpus?: number;
}

export interface ContainerView {
  /** `default` for a single-container job (the name Batch gives its log stream), else the container's name */
  name: string;
  environment: Record<string, string>;
  resources: Resources;
  logConfiguration?: LogConfiguration;
  exitCode?: number;
  reason?: string;
  logStreamName?: string;
}

export interface AttemptView {
  startedAt?: number;
  stoppedAt?: number;
  statusReason?: string;
  containers: Pick<ContainerView, 'name' | 'exitCode' | 'reason' | 'logStreamName'>[];
}

export interface JobView {
  id: string;
  name: string;
  status: string;
  statusReason?: string;
  queue: string;
  definition: string;
  createdAt?: number;
  startedAt?: number;
  stoppedAt?: number;
  /** an array job: its size and its children's statuses */
  array?: { size: number; summary: Record<string, number> };
  /** a child of an array job */
  child?: { parent: string; index: number };
  multiContainer: boolean;
  containers: ContainerView[];
  attempts: AttemptView[];
  /** every container's environment, merged (what lib/job-wire.ts reads the plan from) */
  environment: Record<string, string>;
  parameters: Record<string, string>;
  platforms: string[];
  /** X86_64 or ARM64 when the job says */
  architecture?: string;
  timeoutSeconds?: number;
  retryAttempts?: number;
  detail: JobDetail;
}

export const FinishedStatuses = ['SUCCEEDED', 'FAILED'] as const;
export const isFinished = (status: string | undefined) =>
  (FinishedStatuses as readonly (string | undefined)[]).includes(status);

/** The name of a single container job's one container, as Batch names its log stream (`<definition>/default/<task>`). */
export const DEFAULT_CONTAINER = 'default';

function pairs(list: KeyValuePair[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, value } of list ?? []) if (name) out[name] = value ?? '';
  return out;
}

/** Resources from `resourceRequirements`, else the older `vcpus`/`memory` fields. */
export function resourcesOf(
  req: ResourceRequirement[] | undefined,
  legacy: { vcpus?: number | undefined; memory?: number | undefined } = {},
): Resources {
  const r: Resources = {};
  const get = (type: string) => req?.find((x) => x.type === type)?.value;
  const vcpus = Number(get('VCPU') ?? legacy.vcpus ?? Number.NaN);
  const memory = Number(get('MEMORY') ?? legacy.memory ?? Number.NaN);
  const gpus = Number(get('GPU') ?? Number.NaN);
  if (vcpus > 0) r.vcpus = vcpus;
  if (memory > 0) r.memoryMiB = memory;
  if (gpus > 0) r.gpus = gpus;
  return r;
}

function containersOf(d: JobDetail): ContainerView[] {
  const tasks = d.ecsProperties?.taskProperties ?? [];
  if (tasks.length > 0)
    return tasks.flatMap((t) =>
      (t.containers ?? []).map((c) => ({
        name: c.name ?? '',
        environment: pairs(c.environment),
        resources: resourcesOf(c.resourceRequirements),
        ...(c.logConfiguration ? { logConfiguration: c.logConfiguration } : {}),
        ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.logStreamName ? { logStreamName: c.logStreamName } : {}),
      })),
    );
  const c = d.container;
  if (!c) return [];
  return [
    {
      name: DEFAULT_CONTAINER,
      environment: pairs(c.environment),
      resources: resourcesOf(c.resourceRequirements, c),
      ...(c.logConfiguration ? { logConfiguration: c.logConfiguration } : {}),
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.logStreamName ? { logStreamName: c.logStreamName } : {}),
    },
  ];
}

function attemptOf(a: AttemptDetail): AttemptView {
  const tasks = a.taskProperties ?? [];
  const containers =
    tasks.length > 0
      ? tasks.flatMap((t) => t.containers ?? []).map((c) => ({ ...c, name: c.name ?? '' }))
      : a.container
        ? [{ ...a.container, name: DEFAULT_CONTAINER }]
        : [];
  return {
    ...(a.startedAt !== undefined ? { startedAt: a.startedAt } : {}),
    ...(a.stoppedAt !== undefined ? { stoppedAt: a.stoppedAt } : {}),
    ...(a.statusReason ? { statusReason: a.statusReason } : {}),
    containers: containers.map((c) => ({
      name: c.name,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.logStreamName ? { logStreamName: c.logStreamName } : {}),
    })),
  };
}

/** The job in one shape. */
export function jobView(d: JobDetail): JobView {
  const containers = containersOf(d);
  const environment: Record<string, string> = {};
  for (const c of containers) Object.assign(environment, c.environment);
  const id = d.jobId ?? '';
  // A child says its index; its id (`<id>:<index>`, as Batch names children) says it too.
  const index = d.arrayProperties?.index ?? (/:(\d+)$/.test(id) ? Number(id.split(':')[1]) : undefined);
  const arch =
    d.container?.runtimePlatform?.cpuArchitecture ??
    d.ecsProperties?.taskProperties?.[0]?.runtimePlatform?.cpuArchitecture;
  const view: JobView = {
    id,
    name: d.jobName ?? '',
    status: d.status ?? 'UNKNOWN',
    queue: d.jobQueue ?? '',
    definition: d.jobDefinition ?? '',
    multiContainer: (d.ecsProperties?.taskProperties?.length ?? 0) > 0,
    containers,
    attempts: (d.attempts ?? []).map(attemptOf),
    environment,
    parameters: { ...d.parameters },
    platforms: [...(d.platformCapabilities ?? [])],
    detail: d,
  };
  if (d.statusReason) view.statusReason = d.statusReason;
  if (d.createdAt !== undefined) view.createdAt = d.createdAt;
  if (d.startedAt !== undefined) view.startedAt = d.startedAt;
  if (d.stoppedAt !== undefined) view.stoppedAt = d.stoppedAt;
  if (index !== undefined) view.child = { parent: parentJobId(id), index };
  else if (d.arrayProperties?.size !== undefined)
    view.array = { size: d.arrayProperties.size, summary: { ...d.arrayProperties.statusSummary } };
  if (arch) view.architecture = arch;
  if (d.timeout?.attemptDurationSeconds) view.timeoutSeconds = d.timeout.attemptDurationSeconds;
  if (d.retryStrategy?.attempts) view.retryAttempts = d.retryStrategy.attempts;
  return view;
}

/** DescribeJobs of one job, or UnknownJobError naming it and the region asked. */
export async function describeJob(
  batch: BatchClient,
  id: string,
  region: string | undefined,
): Promise<JobView> {
  const { DescribeJobsCommand } = await import('@aws-sdk/client-batch');
  const out = await aws(`describe job ${id}`, () => batch.send(new DescribeJobsCommand({ jobs: [id] })));
  const detail = out.jobs?.find((j) => j.jobId === id) ?? out.jobs?.[0];
  if (!detail)
    throw new UnknownJobError(
      `there is no Batch job ${id}${region ? ` in ${region}` : ''} (or it is older than Batch keeps jobs)`,
    );
  return jobView(detail);
}

/** The plan the job carries (lib/job-wire.ts), or NotOursError when it carries none. */
export function carriedPlan(job: JobView): CarriedPlan & { function: string; url: string; output: string } {
  let plan: CarriedPlan;
  try {
    plan = readJobPlan({ parameters: job.parameters, environment: job.environment });
  } catch (err) {
    if (err instanceof JobWireError)
      throw new NotOursError(`job ${job.id} is not one the dispatcher planned: ${err.message}`);
    throw err;
  }
  if (plan.function === undefined || plan.url === undefined || plan.output === undefined)
    throw new NotOursError(
      `job ${job.id} has no lambda_function, url and url_out parameters: it is not a job the dispatcher submitted`,
    );
  return plan as CarriedPlan & { function: string; url: string; output: string };
}
