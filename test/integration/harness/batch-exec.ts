// Runs a submitted Batch job the way Batch would (moto's Batch runs no container): command, Ref::, env, `run`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
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
import { envFromPairs, mergeParameters, nameFromArn, substituteRefs } from './batch-refs.js';
import type { Harness } from './index.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ExecuteJobOptions {
  /** the script `run` starts (default <repo>/dist/run-lambda.mjs, which `npm run build` makes) */
  runScript?: string;
  /** AWS_BATCH_JOB_ATTEMPT (default 1) */
  attempt?: number;
  /** extra environment, over everything else (e.g. RUN_LAMBDA_CACHE_DIR) */
  env?: Record<string, string>;
  /** send SIGTERM after this many ms, as Batch does on cancel or attempt timeout; SIGKILL 2 s later */
  killAfterMs?: number;
  /**
   * a child of an array job (batch-array.ts): AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE are set and the
   * job id is `<jobId>:<index>`, as Batch names its children
   */
  array?: { index: number; size: number };
  /** polled every 20 ms while the container runs: once true, the container gets `signal` (a host lost mid-way) */
  stopWhen?: { check: () => boolean; signal: NodeJS.Signals };
  cwd?: string;
}

export interface JobResult {
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
}

interface SubmitBody {
  parameters?: Record<string, string>;
  arrayProperties?: { size?: number };
  containerOverrides?: { command?: string[]; environment?: KeyValuePair[] };
}

/** The SubmitJob request that created `jobId`, from the front's log (moto's DescribeJobs omits parts of it). */
export function submitRequest(h: Harness, jobId: string): SubmitBody | undefined {
  const rec = h.front.find(
    (r) => r.operation === 'SubmitJob' && (r.response as { jobId?: string } | undefined)?.jobId === jobId,
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

/**
 * Executes the job `jobId` (submitted to moto, ideally through the front) as Batch would start its container.
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
  if (!def?.containerProperties)
    throw new Error(`job definition ${job.jobDefinition} has no containerProperties`);
  const { jobQueues } = await h.clients.batch.send(
    new DescribeJobQueuesCommand({ jobQueues: [job.jobQueue] }),
  );
  const ce = jobQueues?.[0]?.computeEnvironmentOrder?.[0]?.computeEnvironment ?? '';

  const submitted = submitRequest(h, jobId);
  const parameters = mergeParameters(
    batchStrings(def.parameters),
    batchStrings(job.parameters),
    submitted?.parameters,
  );
  const command = substituteRefs(
    submitted?.containerOverrides?.command ?? def.containerProperties.command ?? [],
    parameters,
  );
  if (command.length === 0) throw new Error(`job ${jobId} has no command`);
  const batchEnv = {
    ...envFromPairs(def.containerProperties.environment, submitted?.containerOverrides?.environment),
    AWS_BATCH_JOB_ID: opts.array ? `${jobId}:${opts.array.index}` : jobId,
    ...(opts.array
      ? {
          AWS_BATCH_JOB_ARRAY_INDEX: String(opts.array.index),
          AWS_BATCH_JOB_ARRAY_SIZE: String(opts.array.size),
        }
      : {}),
    AWS_BATCH_JQ_NAME: nameFromArn(job.jobQueue),
    AWS_BATCH_JOB_ATTEMPT: String(opts.attempt ?? 1),
    AWS_BATCH_CE_NAME: nameFromArn(ce),
  };

  const bin = await binWithRun(runScript);
  try {
    const env = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: process.env.HOME ?? tmpdir(),
      TMPDIR: tmpdir(),
      ...h.env,
      ...batchEnv,
      ...opts.env,
    };
    const [file, ...args] = command as [string, ...string[]];
    const child = spawn(file, args, { env, cwd: opts.cwd ?? tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let kill: NodeJS.Timeout | undefined;
    let hardKill: NodeJS.Timeout | undefined;
    if (opts.killAfterMs !== undefined) {
      kill = setTimeout(() => {
        child.kill('SIGTERM');
        hardKill = setTimeout(() => child.kill('SIGKILL'), 2000);
      }, opts.killAfterMs);
    }
    const stopWhen = opts.stopWhen;
    const poll = stopWhen
      ? setInterval(() => {
          if (!stopWhen.check()) return;
          clearInterval(poll);
          child.kill(stopWhen.signal);
        }, 20)
      : undefined;
    const [exitCode, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    clearTimeout(kill);
    clearTimeout(hardKill);
    clearInterval(poll);
    const lastLine =
      stderr
        .split('\n')
        .filter((l) => l.trim() !== '')
        .at(-1) ?? '';
    return { exitCode, signal, stdout, stderr, lastLine, command, batchEnv };
  } finally {
    await rm(bin, { recursive: true, force: true });
  }
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
