// A job plan on the wire, both ways: written into a SubmitJob input (the job's `Ref::` parameters, its containers'
// environment, its array size, timeout and retries), and read back from a job (its parameters and environment, as
// DescribeJobs or Step Functions hand them over) into the plan's parts; and the answer the dispatcher gives for it.
// The names are lib/job-plan.ts's (docs/architecture.md "The job contract").
import type {
  ResourceRequirement,
  SubmitJobCommandInput,
  TaskContainerOverrides,
} from '@aws-sdk/client-batch';
import { BATCH_JOB_ID } from './batch-job-id.js';
import { type Env, envString } from './env.js';
import { arraySize, isItemSetUrl, MAX_ITEMS, MIN_ARRAY_SIZE } from './item-set.js';
import {
  AWS_BATCH_JOB_ARRAY_INDEX,
  FUNCTION_CONTAINER,
  JobParameter,
  type JobParameters,
  type JobPlan,
  type JobResources,
  RETRY_ON_EXIT,
  RUN_LAMBDA_ITEM_COUNT,
  RUN_LAMBDA_ITEM_INDEXES,
  RUN_LAMBDA_ITEMS_PER_JOB,
  RUN_LAMBDA_JOB_TIMEOUT,
  RUN_LAMBDA_REDRIVE_OF,
  RUNNER_CONTAINER,
} from './job-plan.js';
import type { BatchJobAnswer } from './request.js';

/** The job's `Ref::` parameters (every value a string, as Batch requires). */
export function jobParameters(plan: JobPlan): JobParameters {
  return {
    [JobParameter.function]: plan.function,
    [JobParameter.url]: plan.payload.url,
    [JobParameter.output]: plan.output,
  };
}

/**
 * The runner's environment the plan adds: the item-set variables (none for a single payload) with a redrive's index
 * list, the job a redrive runs again, and the job's timeout when the request sets one (else the job definition's own
 * value stands).
 */
export function jobEnvironment(plan: JobPlan): { name: string; value: string }[] {
  const p = plan.payload;
  const env =
    p.kind === 'set'
      ? [
          { name: RUN_LAMBDA_ITEM_COUNT, value: String(p.itemCount) },
          { name: RUN_LAMBDA_ITEMS_PER_JOB, value: String(p.itemsPerJob) },
          ...(p.indexes ? [{ name: RUN_LAMBDA_ITEM_INDEXES, value: p.indexes.url }] : []),
        ]
      : [];
  if (plan.redriveOf !== undefined) env.push({ name: RUN_LAMBDA_REDRIVE_OF, value: plan.redriveOf });
  if (plan.timeout !== undefined) env.push({ name: RUN_LAMBDA_JOB_TIMEOUT, value: String(plan.timeout) });
  return env;
}

/** Children of a set's array job: one per `itemsPerJob` of its items, or of its index list's when it has one. */
export function planArraySize(payload: Extract<JobPlan['payload'], { kind: 'set' }>): number {
  return arraySize(payload.indexes?.count ?? payload.itemCount, payload.itemsPerJob);
}

function resources(r: JobResources): ResourceRequirement[] {
  const out: ResourceRequirement[] = [];
  if (r.vcpus !== undefined) out.push({ type: 'VCPU', value: String(r.vcpus) });
  if (r.memory !== undefined) out.push({ type: 'MEMORY', value: String(r.memory) });
  // Batch rejects a GPU requirement of 0; leaving it out asks for none.
  if (r.gpus) out.push({ type: 'GPU', value: String(r.gpus) });
  return out;
}

/** Where the plan's resources and environment go: the one container's overrides, or an image function's two. */
function overrides(
  plan: JobPlan,
): Pick<SubmitJobCommandInput, 'containerOverrides' | 'ecsPropertiesOverride'> {
  const req = resources(plan.resources);
  const environment = jobEnvironment(plan);
  if (plan.image.kind === 'function-image') {
    // Two containers: the request's resources are the function's (the runner takes a share of the task's
    // unreserved headroom); the item-set variables and the job's timeout are the runner's, which reads them.
    const containers: TaskContainerOverrides[] = [
      {
        name: FUNCTION_CONTAINER,
        ...(req.length > 0 ? { resourceRequirements: req } : {}),
        environment: plan.image.environment.map((e) => ({ ...e })),
      },
    ];
    if (environment.length > 0) containers.push({ name: RUNNER_CONTAINER, environment });
    return { ecsPropertiesOverride: { taskProperties: [{ containers }] } };
  }
  if (req.length === 0 && environment.length === 0) return {};
  return {
    containerOverrides: {
      ...(req.length > 0 ? { resourceRequirements: req } : {}),
      ...(environment.length > 0 ? { environment } : {}),
    },
  };
}

/** What the dispatcher answers for a plan, but for the job id. */
export function planAnswer(plan: JobPlan): Omit<BatchJobAnswer, 'job_id'> {
  const p = plan.payload;
  return {
    job_name: plan.name,
    job_queue: plan.queue,
    job_definition: plan.image.jobDefinition,
    image: plan.image.flavour,
    ...(plan.image.kind === 'function-image' ? { function_image: plan.image.image } : {}),
    url: p.url,
    url_out: plan.output,
    record_url: plan.record,
    ...(p.kind === 'set'
      ? {
          item_count: p.itemCount,
          items_per_job: p.itemsPerJob,
          array_size: planArraySize(p),
          ...(p.indexes ? { item_indexes: p.indexes.url } : {}),
        }
      : {}),
    ...(plan.redriveOf !== undefined ? { redrive_of: plan.redriveOf } : {}),
  };
}

/** A planned job as it leaves the dispatcher: its SubmitJob input and the answer its request gets (but the job id). */
export function planOnTheWire(plan: JobPlan): {
  input: SubmitJobCommandInput;
  answer: Omit<BatchJobAnswer, 'job_id'>;
} {
  return { input: submitJobInput(plan), answer: planAnswer(plan) };
}

/** The exact SubmitJob input of a plan (what plan mode answers as `submit_job`). */
export function submitJobInput(plan: JobPlan): SubmitJobCommandInput {
  const input: SubmitJobCommandInput = {
    jobName: plan.name,
    jobQueue: plan.queue,
    jobDefinition: plan.image.jobDefinition,
    parameters: { ...jobParameters(plan) },
  };
  if (plan.payload.kind === 'set') {
    const size = planArraySize(plan.payload);
    // Batch's arrays have 2 to 10,000 children; a set that fits one child is a plain job.
    if (size >= MIN_ARRAY_SIZE) input.arrayProperties = { size };
  }
  Object.assign(input, overrides(plan));
  if (plan.timeout !== undefined) input.timeout = { attemptDurationSeconds: plan.timeout };
  if (plan.attempts !== undefined)
    input.retryStrategy = {
      attempts: plan.attempts,
      evaluateOnExit: RETRY_ON_EXIT.map((e) => ({ ...e })),
    };
  return input;
}

/** A job's parameters or environment do not hold what the plan put there; the message names the variable. */
export class JobWireError extends Error {
  override name = 'JobWireError';
}

/** What a job carries, as read from its description: its parameters and its containers' environment. */
export interface CarriedJob {
  parameters: Readonly<Record<string, string>>;
  environment: Readonly<Record<string, string>>;
}

/** The plan's parts a job carries; a parameter the job lacks is undefined. */
export interface CarriedPlan {
  function: string | undefined;
  url: string | undefined;
  output: string | undefined;
  /**
   * For an output that is an item set (lib/item-set.ts): how many items, how many each child runs, and a redrive's
   * index list (its URL) when the job runs only those.
   */
  items?: { count: number; perJob: number; indexes?: string };
  /** The job a redrive runs again, when this job is one. */
  redriveOf?: string;
}

/** The plan's parameters as a job carries them (jobParameters read back); undefined where one is missing. */
export function readJobParameters(parameters: CarriedJob['parameters']): Omit<CarriedPlan, 'items'> {
  return {
    function: parameters[JobParameter.function],
    url: parameters[JobParameter.url],
    output: parameters[JobParameter.output],
  };
}

function whole(environment: CarriedJob['environment'], name: string, required: boolean): number | undefined {
  const raw = environment[name];
  if (raw === undefined) {
    if (required) throw new JobWireError(`its environment has no ${name}, which an item set's job needs`);
    return undefined;
  }
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= MAX_ITEMS))
    throw new JobWireError(`${name} must be 1 to ${MAX_ITEMS}, got ${JSON.stringify(raw)}`);
  return n;
}

/** An item set's size from a job's environment (RUN_LAMBDA_ITEM_COUNT), or JobWireError naming the variable. */
export function readItemCount(environment: CarriedJob['environment']): number {
  return whole(environment, RUN_LAMBDA_ITEM_COUNT, true)!;
}

/** The whole plan's parts a job carries (its parameters, an item set's numbers, a redrive's), or JobWireError. */
export function readJobPlan(job: CarriedJob): CarriedPlan {
  const carried: CarriedPlan = readJobParameters(job.parameters);
  const env = job.environment;
  if (carried.output !== undefined && isItemSetUrl(carried.output)) {
    carried.items = {
      count: readItemCount(env),
      perJob: whole(env, RUN_LAMBDA_ITEMS_PER_JOB, false) ?? 1,
    };
    const indexes = env[RUN_LAMBDA_ITEM_INDEXES];
    if (indexes !== undefined && indexes !== '') carried.items.indexes = indexes;
  }
  const redriveOf = env[RUN_LAMBDA_REDRIVE_OF];
  if (redriveOf !== undefined && redriveOf !== '') {
    if (!BATCH_JOB_ID.test(redriveOf))
      throw new JobWireError(
        `${RUN_LAMBDA_REDRIVE_OF} is not a Batch job id: ${JSON.stringify(redriveOf.slice(0, 80))}`,
      );
    carried.redriveOf = redriveOf;
  }
  return carried;
}

/** The job settings a runner finds in its environment: each as the text the job put there, undefined when unset. */
export interface JobSettingsText {
  itemCount?: string;
  itemsPerJob?: string;
  itemIndexes?: string;
  redriveOf?: string;
  jobTimeout?: string;
  arrayIndex?: string;
}

/** Each setting's variable: the runner names it beside its flag in its messages (`--item-count (RUN_LAMBDA_ITEM_COUNT)`). */
export const JobSettingVariables = {
  itemCount: RUN_LAMBDA_ITEM_COUNT,
  itemsPerJob: RUN_LAMBDA_ITEMS_PER_JOB,
  itemIndexes: RUN_LAMBDA_ITEM_INDEXES,
  redriveOf: RUN_LAMBDA_REDRIVE_OF,
  jobTimeout: RUN_LAMBDA_JOB_TIMEOUT,
  arrayIndex: AWS_BATCH_JOB_ARRAY_INDEX,
} as const satisfies Record<keyof JobSettingsText, string>;

/**
 * The job's settings from the runner's environment, as text (the runner checks each value and gives its flag
 * precedence): what jobEnvironment wrote, and the array index Batch adds to each child. An empty value is unset.
 */
export function jobSettingsFromEnv(env: Env): JobSettingsText {
  const out: JobSettingsText = {};
  for (const [key, name] of Object.entries(JobSettingVariables) as [keyof JobSettingsText, string][]) {
    const v = envString(env, name);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
