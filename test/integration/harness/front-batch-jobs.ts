// The front's Batch gap for jobs as DescribeJobs tells them. moto 5.2.1's Batch runs nothing: it marks a job SUCCEEDED
// when it is submitted, with one made-up attempt (its stream `<definition>/default/<job id>`, times of the submit),
// drops a submit's resourceRequirements and retryStrategy from the job, and takes TerminateJob without ending anything.
// What the executor (batch-exec.ts) ran is told here, and DescribeJobs answers with it, as Batch would:
// - a job it started is RUNNING, with the running attempt's stream(s) on the job's container(s); one it ended is
//   SUCCEEDED (its essential container exited 0) or FAILED, with each ended attempt (times, exit codes, streams: one
//   container's under `container`, a task's under `taskProperties[].containers[]`) and its status reason; a job a test
//   marks queued is RUNNABLE until it starts;
// - an array job whose children ran has its children's statuses in its summary and a status of theirs;
// - every job submitted through the front carries its submit's resourceRequirements (over the definition's vCPU and
//   memory) and retryStrategy; a multi-container job its containers' environment and resources, overrides applied;
// - TerminateJob is remembered: the executor stops a job asked to terminate (SIGTERM), which then ends FAILED with the
//   reason given; an array child says its index (moto keeps it but leaves it out). Jobs the executor never touches stay
//   otherwise as moto describes them.
import type { EcsContainer, EcsDefinitions } from './front-batch-ecs.js';

type Json = Record<string, unknown>;
type Pair = { name?: string; value?: string };
type Requirement = { type?: string; value?: string };

export interface ContainerRun {
  name: string;
  logStreamName: string;
  exitCode?: number;
  reason?: string;
}

export interface AttemptRun {
  startedAt: number;
  stoppedAt?: number;
  taskArn: string;
  containers: ContainerRun[];
}

interface JobRun {
  multiContainer: boolean;
  attempts: AttemptRun[];
  queued: boolean;
  /** the essential container's exit code of the last ended attempt */
  exitCode?: number;
}

const ESSENTIAL_EXITED = 'Essential container in task exited';

function merge<T extends { name?: string; type?: string }>(
  key: 'name' | 'type',
  ...lists: (T[] | undefined)[]
): T[] {
  const out = new Map<string, T>();
  for (const list of lists) for (const x of list ?? []) if (x[key]) out.set(x[key]!, x);
  return [...out.values()];
}

export class BatchJobs {
  private runs = new Map<string, JobRun>();
  private submits = new Map<string, Json>();
  private terminations = new Map<string, string>();

  constructor(private readonly ecs: EcsDefinitions) {}

  /** A test says the job waits for a place to run (RUNNABLE) until the executor starts it. */
  queued(jobId: string): void {
    this.runs.set(jobId, { multiContainer: false, attempts: [], queued: true });
  }

  /** The executor started an attempt of `jobId` (an array child's id is `<id>:<i>`). */
  started(jobId: string, attempt: AttemptRun, multiContainer: boolean): void {
    const run = this.runs.get(jobId) ?? { multiContainer, attempts: [], queued: false };
    run.queued = false;
    run.multiContainer = multiContainer;
    run.attempts.push(attempt);
    this.runs.set(jobId, run);
  }

  /** The attempt running ended: each container's exit code, and the job's (its essential container's). */
  ended(
    jobId: string,
    stoppedAt: number,
    exitCode: number,
    containers: Omit<ContainerRun, 'logStreamName'>[],
  ): void {
    const run = this.runs.get(jobId);
    const last = run?.attempts.at(-1);
    if (!run || !last) throw new Error(`job ${jobId} ended without having started`);
    last.stoppedAt = stoppedAt;
    for (const c of containers) Object.assign(last.containers.find((x) => x.name === c.name) ?? {}, c);
    run.exitCode = exitCode;
  }

  /** Whether TerminateJob was asked for the job (or, for a child, its array job). */
  terminateRequested(jobId: string): boolean {
    return this.terminations.has(jobId) || this.terminations.has(jobId.replace(/:\d+$/, ''));
  }

  before(operation: string, body: Json | undefined): void {
    if (operation === 'TerminateJob' && typeof body?.jobId === 'string')
      this.terminations.set(body.jobId, String(body.reason ?? 'Terminated'));
  }

  /** The answer as Batch would give it (after front-batch-ecs.ts's). */
  after(operation: string, request: Json | undefined, answer: Buffer, status: number): Buffer {
    if (status >= 300 || (operation !== 'SubmitJob' && operation !== 'DescribeJobs')) return answer;
    let parsed: Json;
    try {
      parsed = JSON.parse(answer.toString('utf8')) as Json;
    } catch {
      return answer;
    }
    if (operation === 'SubmitJob') {
      if (request && typeof parsed.jobId === 'string') this.submits.set(parsed.jobId, request);
      return answer;
    }
    for (const job of (parsed.jobs as Json[] | undefined) ?? []) this.describe(job);
    return Buffer.from(JSON.stringify(parsed));
  }

  private describe(job: Json): void {
    const id = String(job.jobId);
    const child = /:(\d+)$/.exec(id);
    if (child && !job.arrayProperties) job.arrayProperties = { index: Number(child[1]) };
    const submit = this.submits.get(id.replace(/:\d+$/, ''));
    if (submit) this.fromSubmit(job, submit);
    const run = this.runs.get(id);
    if (run)
      this.asRun(job, run, this.terminations.get(id) ?? this.terminations.get(id.replace(/:\d+$/, '')));
    else if (this.terminations.has(id) && job.status !== 'SUCCEEDED')
      job.statusReason = this.terminations.get(id);
    const array = job.arrayProperties as { size?: number; index?: number } | undefined;
    if (array?.size !== undefined && array.index === undefined) this.asArray(job, id, array.size);
  }

  /** What the submit set that moto drops: resources over the definition's, the retry strategy, a task's containers. */
  private fromSubmit(job: Json, submit: Json): void {
    if (submit.retryStrategy) job.retryStrategy = submit.retryStrategy;
    const container = job.container as Json | undefined;
    const overrides = submit.containerOverrides as { resourceRequirements?: Requirement[] } | undefined;
    if (container) {
      const fromDefinition: Requirement[] = [
        { type: 'VCPU', value: String(container.vcpus ?? 1) },
        { type: 'MEMORY', value: String(container.memory ?? 2048) },
      ];
      container.resourceRequirements = merge('type', fromDefinition, overrides?.resourceRequirements);
    }
    const ecs = this.ecs.get(String(job.jobDefinition));
    const tasks = (job.ecsProperties as { taskProperties?: { containers?: Json[] }[] } | undefined)
      ?.taskProperties;
    if (!ecs || !tasks?.[0]) return;
    const over = (
      submit.ecsPropertiesOverride as { taskProperties?: { containers?: EcsContainer[] }[] } | undefined
    )?.taskProperties?.[0]?.containers;
    for (const c of tasks[0].containers ?? []) {
      const def = ecs.taskProperties?.[0]?.containers?.find((d) => d.name === c.name);
      const o = over?.find((x) => x.name === c.name);
      c.environment = merge<Pair>('name', def?.environment, o?.environment);
      c.resourceRequirements = merge<Requirement>('type', def?.resourceRequirements, o?.resourceRequirements);
    }
  }

  /** The job as the executor ran it (or RUNNABLE, queued and not yet started). */
  private asRun(job: Json, run: JobRun, terminated: string | undefined): void {
    const ended = run.attempts.filter((a) => a.stoppedAt !== undefined);
    const current = run.attempts.at(-1);
    const running = current !== undefined && current.stoppedAt === undefined;
    job.status = run.queued ? 'RUNNABLE' : running ? 'RUNNING' : run.exitCode === 0 ? 'SUCCEEDED' : 'FAILED';
    job.attempts = ended.map((a) => this.attempt(a, run.multiContainer, terminated));
    delete job.startedAt;
    delete job.stoppedAt;
    delete job.statusReason;
    if (run.attempts[0]) job.startedAt = run.attempts[0].startedAt;
    if (!running && current?.stoppedAt !== undefined) {
      job.stoppedAt = current.stoppedAt;
      job.statusReason = terminated ?? ESSENTIAL_EXITED;
    }
    if (run.multiContainer) {
      const tasks = (job.ecsProperties as { taskProperties?: Json[] } | undefined)?.taskProperties ?? [];
      if (tasks[0]) {
        tasks[0].taskArn = current?.taskArn;
        for (const c of (tasks[0].containers as Json[] | undefined) ?? [])
          this.onContainer(c, current, String(c.name));
      }
    } else {
      const container = (job.container as Json | undefined) ?? {};
      delete container.logStreamName;
      this.onContainer(container, current, 'default');
      if (current) container.taskArn = current.taskArn;
      job.container = container;
    }
  }

  private onContainer(target: Json, attempt: AttemptRun | undefined, name: string): void {
    const c = attempt?.containers.find((x) => x.name === name);
    delete target.exitCode;
    if (!c) return;
    target.logStreamName = c.logStreamName;
    if (c.exitCode !== undefined) target.exitCode = c.exitCode;
    if (c.reason !== undefined) target.reason = c.reason;
  }

  private attempt(a: AttemptRun, multiContainer: boolean, terminated: string | undefined): Json {
    const containers = a.containers.map((c) => ({
      ...(multiContainer ? { name: c.name } : {}),
      logStreamName: c.logStreamName,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
    }));
    const where = multiContainer
      ? { taskProperties: [{ taskArn: a.taskArn, containers }] }
      : { container: { ...containers[0], taskArn: a.taskArn } };
    return {
      ...where,
      startedAt: a.startedAt,
      stoppedAt: a.stoppedAt,
      statusReason: terminated ?? ESSENTIAL_EXITED,
    };
  }

  /** An array job whose children the executor ran: their statuses, and the array's own from them. */
  private asArray(job: Json, id: string, size: number): void {
    const children = Array.from({ length: size }, (_, i) => `${id}:${i}`);
    if (!children.some((c) => this.runs.has(c) || this.terminations.has(c))) return;
    const summary: Record<string, number> = {
      SUBMITTED: 0,
      PENDING: 0,
      RUNNABLE: 0,
      STARTING: 0,
      RUNNING: 0,
      SUCCEEDED: 0,
      FAILED: 0,
    };
    for (const c of children) summary[this.childStatus(c)]! += 1;
    job.arrayProperties = { ...(job.arrayProperties as Json), statusSummary: summary };
    const open = summary.RUNNING! + summary.RUNNABLE!;
    job.status =
      open > 0
        ? summary.RUNNING! > 0
          ? 'RUNNING'
          : 'RUNNABLE'
        : summary.FAILED! > 0
          ? 'FAILED'
          : 'SUCCEEDED';
    if (open > 0) delete job.stoppedAt;
  }

  private childStatus(id: string): string {
    const run = this.runs.get(id);
    if (!run) return this.terminations.has(id) ? 'FAILED' : 'SUCCEEDED';
    if (run.queued) return 'RUNNABLE';
    if (run.attempts.at(-1)?.stoppedAt === undefined) return 'RUNNING';
    return run.exitCode === 0 ? 'SUCCEEDED' : 'FAILED';
  }
}
