// Runs a submitted Batch job the way Batch would (moto's Batch runs no container): command, Ref::, env, `run`; a
// multi-container (ecsProperties) job as its containers in one task (batch-task.ts). Each container runs in the
// local image that stands for its image (local-images.ts), or, for the run-lambda images when none is given, as a
// process on this host with `run` on the PATH.
// Gaps filled beyond moto's: a Fargate task has its own loopback, while processes and host-network containers here
// share the machine's, so each multi-container job gets a port of its own, leased (test/support/ports.ts), in place
// of 127.0.0.1:9001 (in commands and environment values); and the run-lambda images' own node (RUNNER_NODE) is this
// process's node on the host.
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AttemptDetail,
  DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand,
  DescribeJobsCommand,
  type JobDetail,
  type KeyValuePair,
} from '@aws-sdk/client-batch';
import { RUNNER_NODE } from '../../../functions/dispatcher/function-image-definition.js';
import { EXTERNAL_RUNTIME_API, RUNNER_CONTAINER } from '../../../lib/job-plan.js';
import { leasePort } from '../../support/ports.js';
import { envFromPairs, mergeParameters, nameFromArn, substituteRefs } from './batch-refs.js';
import { type ContainerResult, type ContainerSpec, runTask } from './batch-task.js';
import type { EcsContainer } from './front-batch-ecs.js';
import type { Harness } from './index.js';
import type { ImageResolver, LocalImage } from './local-images.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ExecuteJobOptions {
  /** the script `run` starts (default <repo>/dist/run-lambda.mjs, which `npm run build` makes) */
  runScript?: string;
  /** AWS_BATCH_JOB_ATTEMPT (default 1) */
  attempt?: number;
  /** extra environment of every container, over everything else (e.g. the caller's access key) */
  env?: Record<string, string>;
  /** extra environment of the containers that run as processes on this host (e.g. RUN_LAMBDA_CACHE_DIR) */
  processEnv?: Record<string, string>;
  /** send SIGTERM after this many ms, as Batch does on cancel or attempt timeout; SIGKILL 2 s later */
  killAfterMs?: number;
  /** the local stand-in of each image; none for a run-lambda image means a process on this host */
  images?: ImageResolver;
  /** docker --volume mounts of every Docker container (host paths a handler writes to) */
  volumes?: string[];
  /**
   * a child of an array job (batch-array.ts): AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE are set and the
   * job id is `<jobId>:<index>`, as Batch names its children
   */
  array?: { index: number; size: number };
  /** polled every 20 ms while the task runs: once true, its containers get `signal` (a host lost mid-way) */
  stopWhen?: { check: () => boolean; signal: NodeJS.Signals };
}

export interface JobResult {
  /** the job's exit code: its (essential) container's */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the last non-empty stderr line (the runner's `<ErrorType>: <message>` on failure) */
  lastLine: string;
  /** the container command after Ref:: substitution */
  command: string[];
  /** the container environment Batch would have set (without PATH and the harness's AWS env) */
  batchEnv: Record<string, string>;
  /** what the job's (runner) container ran in: `process` or the local image */
  ranIn: string;
  /** a multi-container job's containers by name */
  containers?: Record<string, ContainerResult>;
}

interface Override {
  name?: string;
  command?: string[];
  environment?: KeyValuePair[];
}

interface SubmitBody {
  parameters?: Record<string, string>;
  arrayProperties?: { size?: number };
  containerOverrides?: { command?: string[]; environment?: KeyValuePair[] };
  ecsPropertiesOverride?: { taskProperties?: { containers?: Override[] }[] };
}

/** An array child's index: Batch names child j of job `id` `id:j` (moto's description may not carry the index). */
function childIndex(jobId: string, described: number | undefined): number | undefined {
  if (described !== undefined) return described;
  const m = /:(\d+)$/.exec(jobId);
  return m ? Number(m[1]) : undefined;
}

/** The SubmitJob request that created `jobId`, from the front's log (moto's DescribeJobs omits parts of it). */
export function submitRequest(h: Harness, jobId: string): SubmitBody | undefined {
  const base = jobId.split(':')[0];
  const rec = h.front.find(
    (r) => r.operation === 'SubmitJob' && (r.response as { jobId?: string } | undefined)?.jobId === base,
  );
  return rec?.body as SubmitBody | undefined;
}

/**
 * Parameters as Batch keeps them, all strings. A definition moto's CloudFormation registered has each empty-string
 * default as [] (moto walks the string as a list of property maps), and DescribeJobs copies those into the job;
 * Batch keeps "", so [] is read as "".
 */
function batchStrings(parameters: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(parameters ?? {}).map(([k, v]) => [
      k,
      Array.isArray(v) && v.length === 0 ? '' : String(v),
    ]),
  );
}

/** A bin folder with `run` on it, as the images put it on PATH. */
async function binWithRun(runScript: string): Promise<string> {
  const bin = await mkdtemp(join(tmpdir(), 'batch-bin-'));
  const run = join(bin, 'run');
  await writeFile(run, `#!/bin/sh\nexec '${process.execPath}' '${runScript}' "$@"\n`);
  await chmod(run, 0o755);
  return bin;
}

const lastLineOf = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .at(-1) ?? '';

/** A run-lambda image: its local stand-in when one is given, else this host (`run` on PATH). */
function runnerImage(opts: ExecuteJobOptions, image: string | undefined): LocalImage | 'host' {
  return (image && opts.images?.(image)) || 'host';
}

/**
 * Executes the job `jobId` (submitted to moto, ideally through the front) as Batch would start its container(s).
 * @example
 *   const { jobId } = await dispatch(…);           // SubmitJob through h.front
 *   const r = await executeJob(h, jobId!);
 *   assert.equal(r.exitCode, 0, r.stderr);
 */
export async function executeJob(
  h: Harness,
  jobId: string,
  opts: ExecuteJobOptions = {},
): Promise<JobResult> {
  const runScript = opts.runScript ?? join(REPO_ROOT, 'dist/run-lambda.mjs');
  if (!existsSync(runScript)) throw new Error(`${runScript} is missing: run \`npm run build\` first`);
  const { jobs } = await h.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
  const job = jobs?.[0];
  if (!job?.jobDefinition || !job.jobQueue) throw new Error(`Batch job ${jobId} not found`);
  const { jobDefinitions } = await h.clients.batch.send(
    new DescribeJobDefinitionsCommand({ jobDefinitions: [job.jobDefinition] }),
  );
  const def = jobDefinitions?.[0];
  const ecs = h.front.ecsDefinition(job.jobDefinition);
  if (!def?.containerProperties && !ecs)
    throw new Error(`job definition ${job.jobDefinition} has neither containerProperties nor ecsProperties`);
  const { jobQueues } = await h.clients.batch.send(
    new DescribeJobQueuesCommand({ jobQueues: [job.jobQueue] }),
  );
  const ce = jobQueues?.[0]?.computeEnvironmentOrder?.[0]?.computeEnvironment ?? '';

  const submitted = submitRequest(h, jobId);
  const parameters = mergeParameters(
    batchStrings(def?.parameters),
    batchStrings(job.parameters),
    submitted?.parameters,
  );
  const batchVars = {
    AWS_BATCH_JOB_ID: opts.array ? `${jobId}:${opts.array.index}` : jobId,
    ...(opts.array
      ? {
          AWS_BATCH_JOB_ARRAY_INDEX: String(opts.array.index),
          AWS_BATCH_JOB_ARRAY_SIZE: String(opts.array.size),
        }
      : childIndex(jobId, job.arrayProperties?.index) !== undefined
        ? { AWS_BATCH_JOB_ARRAY_INDEX: String(childIndex(jobId, job.arrayProperties?.index)) }
        : {}),
    AWS_BATCH_JQ_NAME: nameFromArn(job.jobQueue),
    AWS_BATCH_JOB_ATTEMPT: String(opts.attempt ?? 1),
    AWS_BATCH_CE_NAME: nameFromArn(ce),
    ...(job.arrayProperties?.index !== undefined
      ? { AWS_BATCH_JOB_ARRAY_INDEX: String(job.arrayProperties.index) }
      : {}),
  };

  const bin = await binWithRun(runScript);
  try {
    const envOf = (image: LocalImage | 'host', own: Record<string, string>) => ({
      ...h.env,
      ...own,
      ...batchVars,
      ...opts.env,
      ...(image === 'host' || image.kind === 'folder' ? opts.processEnv : {}),
    });
    const task = {
      hostPath: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      killAfterMs: opts.killAfterMs,
      stopWhen: opts.stopWhen,
    };
    if (!ecs) {
      const container = def?.containerProperties ?? {};
      const command = substituteRefs(
        submitted?.containerOverrides?.command ?? container.command ?? [],
        parameters,
      );
      if (command.length === 0) throw new Error(`job ${jobId} has no command`);
      const own = envFromPairs(container.environment, submitted?.containerOverrides?.environment);
      const image = runnerImage(opts, container.image);
      const results = await runTask(
        [
          {
            name: 'default',
            essential: true,
            dependsOn: [],
            image,
            command,
            env: envOf(image, own),
            volumes: opts.volumes,
          },
        ],
        task,
      );
      const r = results.default!;
      return {
        exitCode: r.exitCode,
        signal: r.signal,
        stdout: r.stdout,
        stderr: r.stderr,
        lastLine: lastLineOf(r.stderr),
        command,
        batchEnv: { ...own, ...batchVars },
        ranIn: r.ranIn,
      };
    }
    // Leased, not merely found free: the runner binds it only once its container starts (test/support/ports.ts).
    const lease = await leasePort();
    try {
      return await executeTask(ecs.taskProperties?.[0]?.containers ?? [], submitted, parameters, {
        opts,
        task,
        envOf,
        batchVars,
        sharedPid: ecs.taskProperties?.[0]?.pidMode === 'task',
        runtimeApi: `127.0.0.1:${lease.port}`,
      });
    } finally {
      await lease.release();
    }
  } finally {
    await rm(bin, { recursive: true, force: true });
  }
}

/** A multi-container job: its containers with their overrides, Ref:: substituted, the Runtime API port made private. */
async function executeTask(
  containers: EcsContainer[],
  submitted: SubmitBody | undefined,
  parameters: Record<string, string>,
  ctx: {
    opts: ExecuteJobOptions;
    task: { hostPath: string; killAfterMs?: number };
    envOf: (image: LocalImage | 'host', own: Record<string, string>) => Record<string, string>;
    batchVars: Record<string, string>;
    /** the definition's pidMode is task: every container joins the runner's PID namespace */
    sharedPid: boolean;
    /** the private address that stands for the task's own 127.0.0.1:9001 */
    runtimeApi: string;
  },
): Promise<JobResult> {
  const { opts } = ctx;
  const local = (v: string) => (v === EXTERNAL_RUNTIME_API ? ctx.runtimeApi : v);
  const overrides = submitted?.ecsPropertiesOverride?.taskProperties?.[0]?.containers ?? [];
  const runnerRef = containers.find((c) => c.name === RUNNER_CONTAINER)?.image;
  const specs: ContainerSpec[] = containers.map((c) => {
    const over = overrides.find((o) => o.name === c.name);
    let image: LocalImage | 'host';
    if (c.image === runnerRef) image = runnerImage(opts, c.image);
    else {
      const found = c.image ? opts.images?.(c.image) : undefined;
      if (!found)
        throw new Error(
          `no local image stands for ${c.image} (container ${c.name}): Batch would fail the task with CannotPullContainerError`,
        );
      image = found;
    }
    let command = over?.command ?? c.command;
    if (command) command = substituteRefs(command, parameters).map(local);
    if (command && image === 'host' && command[0] === RUNNER_NODE)
      command = [process.execPath, ...command.slice(1)];
    const own = Object.fromEntries(
      Object.entries(envFromPairs(c.environment, over?.environment)).map(([k, v]) => [k, local(v)]),
    );
    return {
      name: c.name ?? '',
      essential: c.essential !== false,
      dependsOn: c.dependsOn ?? [],
      image,
      command,
      env: ctx.envOf(image, own),
      volumes: opts.volumes,
      ...(ctx.sharedPid && c.name !== RUNNER_CONTAINER ? { sharePidWith: RUNNER_CONTAINER } : {}),
    };
  });
  const results = await runTask(specs, ctx.task);
  const essential = specs.find((s) => s.essential && results[s.name]?.started) ?? specs[0]!;
  const main = results[essential.name]!;
  return {
    exitCode: main.exitCode,
    signal: main.signal,
    stdout: main.stdout,
    stderr: main.stderr,
    lastLine: lastLineOf(main.stderr),
    command: main.command,
    batchEnv: { ...ctx.batchVars },
    ranIn: main.ranIn,
    containers: results,
  };
}

/** What Batch reports for a job whose (only) container exited, and the job is done. */
export const ESSENTIAL_CONTAINER_EXITED = 'Essential container in task exited';

/**
 * The job `job` (moto's DescribeJobs answer) as Batch describes it after its container ended as `run` did. moto's Batch
 * runs no container and marks every job SUCCEEDED when it is submitted, with no exit code; the executor above knows
 * how the container ended, so this sets what Batch sets then: the status (SUCCEEDED for exit 0, FAILED otherwise),
 * the status reason, and the exit code on the job's container and on its last attempt.
 */
export function describedAsRun(job: JobDetail, run: Pick<JobResult, 'exitCode' | 'signal'>): JobDetail {
  // A container killed by a signal reports 128 + its number, as Docker and ECS do.
  const exitCode = run.exitCode ?? 128 + (run.signal ? (constants.signals[run.signal] ?? 0) : 0);
  const ended = structuredClone(job);
  ended.status = exitCode === 0 ? 'SUCCEEDED' : 'FAILED';
  ended.statusReason = ESSENTIAL_CONTAINER_EXITED;
  ended.container = { ...ended.container, exitCode };
  const attempts = ended.attempts?.length ? ended.attempts : [{}];
  const last = attempts[attempts.length - 1] as AttemptDetail;
  last.container = { ...last.container, exitCode };
  last.statusReason = ESSENTIAL_CONTAINER_EXITED;
  ended.attempts = attempts;
  return ended;
}
