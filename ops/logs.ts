// `lambda-batch logs <job-id> [--index i] [--attempt n] [--follow]`: a job's log events from CloudWatch Logs, oldest
// first. The group is the job definition's (its awslogs-group), else Batch's /aws/batch/job; the stream is the
// attempt's (every container's, for a multi-container job, each line named by its container). --follow polls every
// --interval until the job ends, then reads once more, for at most --max-wait.
import type {
  CloudWatchLogsClient,
  GetLogEventsCommandOutput,
  OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import type { Invocation } from './args.js';
import type { Clients } from './aws.js';
import { type DefinitionView, describeDefinition } from './definition.js';
import { aws, ExitCodes, OpsError, UsageError } from './errors.js';
import { type Io, iso } from './io.js';
import { describeJob, isFinished, type JobView } from './job.js';

/** Batch's log group when the definition names none. */
export const DEFAULT_LOG_GROUP = '/aws/batch/job';

export interface StreamRef {
  container: string;
  group: string;
  stream: string;
  region?: string;
}

interface Followed extends StreamRef {
  token?: string;
}

export interface LogEvent {
  timestamp: number;
  container: string;
  message: string;
}

/** The job `--index` names (child i of an array job), checked against the array's size. */
async function targetJob(clients: Clients, inv: Invocation): Promise<JobView> {
  const batch = await clients.batch();
  const id = inv.job!.id;
  if (inv.index === undefined) return describeJob(batch, id, clients.region);
  if (id.includes(':'))
    throw new UsageError(`${id} is a child already; --index goes with the array job's id`);
  const parent = await describeJob(batch, id, clients.region);
  if (!parent.array) throw new UsageError(`job ${id} is not an array job; --index names a child of one`);
  if (inv.index >= parent.array.size)
    throw new UsageError(
      `job ${id} has ${parent.array.size} children (0 to ${parent.array.size - 1}); --index ${inv.index} is past them`,
    );
  return describeJob(batch, `${id}:${inv.index}`, clients.region);
}

/** The containers of the attempt asked for: the n-th, else the running one, else the last. */
function attemptContainers(
  job: JobView,
  n: number | undefined,
): { attempt: number; containers: JobView['containers'] } {
  const running = !isFinished(job.status) && job.containers.some((c) => c.logStreamName);
  const current = { attempt: job.attempts.length + 1, containers: job.containers };
  if (n === undefined) {
    if (running || job.attempts.length === 0) return current;
    const last = job.attempts.at(-1)!;
    return {
      attempt: job.attempts.length,
      containers: last.containers.map((c) => ({ ...c, environment: {}, resources: {} })),
    };
  }
  if (n <= job.attempts.length)
    return {
      attempt: n,
      containers: job.attempts[n - 1]!.containers.map((c) => ({ ...c, environment: {}, resources: {} })),
    };
  if (n === current.attempt && running) return current;
  throw new UsageError(
    `job ${job.id} has ${job.attempts.length} attempt(s)${running ? ' and one running' : ''}; --attempt ${n} is none of them`,
  );
}

/** Each container's stream of the attempt, in the group its log configuration (the job's, else `def`'s) names. */
function streamsOf(
  job: JobView,
  n: number | undefined,
  def: DefinitionView | undefined,
): { attempt: number; streams: StreamRef[] } {
  const { attempt, containers } = attemptContainers(job, n);
  const streams: StreamRef[] = [];
  for (const c of containers) {
    if (!c.logStreamName) continue;
    const config =
      job.containers.find((x) => x.name === c.name)?.logConfiguration ??
      def?.containers.find((x) => x.name === c.name)?.logConfiguration;
    if (config?.logDriver && config.logDriver !== 'awslogs')
      throw new OpsError(
        `container ${c.name} of job ${job.id} logs to ${config.logDriver}, not CloudWatch Logs`,
      );
    const o = config?.options ?? {};
    streams.push({
      container: c.name,
      group: o['awslogs-group'] ?? DEFAULT_LOG_GROUP,
      stream: c.logStreamName,
      ...(o['awslogs-region'] ? { region: o['awslogs-region'] } : {}),
    });
  }
  return { attempt, streams };
}

/** The stream's events after `s.token` (all of them, page by page), and the token to go on from. */
async function readStream(logs: CloudWatchLogsClient, s: Followed): Promise<OutputLogEvent[]> {
  const { GetLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  const events: OutputLogEvent[] = [];
  for (;;) {
    let out: GetLogEventsCommandOutput;
    try {
      out = await aws(`read log stream ${s.stream} of ${s.group}`, () =>
        logs.send(
          new GetLogEventsCommand({
            logGroupName: s.group,
            logStreamName: s.stream,
            startFromHead: true,
            nextToken: s.token,
          }),
        ),
      );
    } catch (err) {
      // The stream is made when the container writes its first line.
      if ((err as Error).cause && ((err as Error).cause as Error).name === 'ResourceNotFoundException')
        return events;
      throw err;
    }
    events.push(...(out.events ?? []));
    // GetLogEvents answers the token it was given once there is nothing newer.
    const same = out.nextForwardToken === undefined || out.nextForwardToken === s.token;
    if (out.nextForwardToken) s.token = out.nextForwardToken;
    if (same || (out.events ?? []).length === 0) return events;
  }
}

/** New events of every stream, oldest first (a container's own order kept for equal times). */
async function readAll(clients: Clients, streams: Followed[]): Promise<LogEvent[]> {
  const per = await Promise.all(
    streams.map(async (s) =>
      (await readStream(await clients.logs(s.region), s)).map((e) => ({
        timestamp: e.timestamp ?? 0,
        container: s.container,
        message: (e.message ?? '').replace(/\n$/, ''),
      })),
    ),
  );
  return per.flat().sort((a, b) => a.timestamp - b.timestamp);
}

function line(e: LogEvent, named: boolean): string {
  return `${iso(e.timestamp)} ${named ? `[${e.container}] ` : ''}${e.message}\n`;
}

interface Following {
  def: DefinitionView | undefined;
  job: JobView;
  followed: Followed[];
  emit: (events: LogEvent[]) => void;
}

/** Runs the command; the exit code (75 when --follow stopped at --max-wait before the job ended). */
export async function runLogs(inv: Invocation, clients: Clients, io: Io): Promise<number> {
  const job = await targetJob(clients, inv);
  const def = await describeDefinition(await clients.batch(), job.definition);
  const { attempt, streams } = streamsOf(job, inv.attempt, def);
  const all: LogEvent[] = [];
  const state: Following = {
    def,
    job,
    followed: streams.map((s) => ({ ...s })),
    emit: (events) => {
      all.push(...events);
      if (!inv.json) for (const e of events) io.out(line(e, job.multiContainer));
    },
  };
  state.emit(await readAll(clients, state.followed));
  let code: number = ExitCodes.ok;
  if (inv.follow) code = await follow(inv, clients, io, state);
  else if (streams.length === 0) {
    io.err(`job ${job.id} is ${job.status}: no log stream yet (a container has one once it runs)\n`);
    if (!isFinished(job.status)) code = ExitCodes.notFinished;
  }
  if (inv.json) {
    const shown = state.followed.map(({ container, group, stream }) => ({ container, group, stream }));
    const events = all.map((e) => ({ ...e, timestamp: iso(e.timestamp) }));
    io.out(
      `${JSON.stringify({ job_id: job.id, status: state.job.status, attempt, streams: shown, events })}\n`,
    );
  }
  return code;
}

/**
 * Polls until the job ends or --max-wait runs out: each round describes the job (a retry's new streams are added)
 * and reads what is new. The round that sees the job ended reads once more after it, and is the last.
 */
async function follow(inv: Invocation, clients: Clients, io: Io, s: Following): Promise<number> {
  const until = io.now() + inv.maxWaitMs;
  io.err(
    `following job ${s.job.id}: reading every ${inv.intervalMs / 1000} s until it ends (at most ${inv.maxWaitMs / 1000} s)\n`,
  );
  while (!isFinished(s.job.status)) {
    if (io.now() >= until) {
      io.err(`job ${s.job.id} is still ${s.job.status} after ${inv.maxWaitMs / 1000} s; stopped following\n`);
      return ExitCodes.notFinished;
    }
    await io.sleep(inv.intervalMs);
    s.job = await describeJob(await clients.batch(), s.job.id, clients.region);
    const { streams } = streamsOf(s.job, inv.attempt, s.def);
    for (const st of streams)
      if (!s.followed.some((f) => f.stream === st.stream && f.group === st.group)) s.followed.push({ ...st });
    s.emit(await readAll(clients, s.followed));
  }
  return ExitCodes.ok;
}
