// A Batch job description in one shape, read from any of the shapes it arrives in: DescribeJobs' camelCase JobDetail
// (the SDK, EventBridge) or the PascalCase copy Step Functions hands over after batch:submitJob.sync.

export const TerminalStatuses = ['SUCCEEDED', 'FAILED'] as const;

export interface AttemptView {
  statusReason: string | undefined;
  /** the essential container's exit code and reason (ECS: "CannotPullContainerError: …") */
  exitCode: number | undefined;
  containerReason: string | undefined;
}

export interface JobView {
  jobId: string;
  jobName: string | undefined;
  status: string | undefined;
  statusReason: string | undefined;
  /** Batch job parameters (Ref:: values): lambda_function, url, url_out */
  parameters: Record<string, string>;
  /** the container's environment (the definition's merged with the submit's overrides) */
  environment: Record<string, string>;
  attempts: AttemptView[];
  exitCode: number | undefined;
  containerReason: string | undefined;
  /** size of an array job */
  arraySize: number | undefined;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `o.jobId` or `o.JobId`: Step Functions PascalCases the keys of the API's answer, but not map keys. */
function get(o: unknown, key: string): unknown {
  if (!isObj(o)) return undefined;
  return o[key] ?? o[key[0]!.toUpperCase() + key.slice(1)];
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function pairs(v: unknown, into: Record<string, string>): void {
  for (const kv of list(v)) {
    const name = str(get(kv, 'name'));
    const value = get(kv, 'value');
    if (name !== undefined && typeof value === 'string') into[name] = value;
  }
}

/** The containers of a job or attempt: `container`, or the task's containers of an ECS-properties job. */
function containers(o: unknown): unknown[] {
  const one = get(o, 'container');
  const tasks = list(get(get(o, 'ecsProperties'), 'taskProperties')).concat(list(get(o, 'taskProperties')));
  return [...(one === undefined ? [] : [one]), ...tasks.flatMap((t) => list(get(t, 'containers')))];
}

/** The exit code and reason of the container that tells (the first with a non-zero code, else the first). */
function exitOf(o: unknown): { exitCode: number | undefined; containerReason: string | undefined } {
  const cs = containers(o);
  const telling =
    cs.find((c) => (int(get(c, 'exitCode')) ?? 0) !== 0) ?? cs.find((c) => str(get(c, 'reason'))) ?? cs[0];
  return { exitCode: int(get(telling, 'exitCode')), containerReason: str(get(telling, 'reason')) };
}

/** The job in one shape, or undefined when `raw` is not a job description (it has no job id). */
export function jobView(raw: unknown): JobView | undefined {
  const jobId = str(get(raw, 'jobId'));
  if (jobId === undefined) return undefined;
  const parameters: Record<string, string> = {};
  const params = get(raw, 'parameters');
  if (isObj(params))
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string') parameters[k] = v;
  const environment: Record<string, string> = {};
  for (const c of containers(raw)) pairs(get(c, 'environment'), environment);
  return {
    jobId,
    jobName: str(get(raw, 'jobName')),
    status: str(get(raw, 'status')),
    statusReason: str(get(raw, 'statusReason')),
    parameters,
    environment,
    attempts: list(get(raw, 'attempts')).map((a) => ({
      statusReason: str(get(a, 'statusReason')),
      ...exitOf(a),
    })),
    ...exitOf(raw),
    arraySize: int(get(get(raw, 'arrayProperties'), 'size')),
  };
}

export function isTerminal(job: JobView): boolean {
  return (TerminalStatuses as readonly (string | undefined)[]).includes(job.status);
}

/** True when a record written by `recordJobId` belongs to `job` (itself, or one of its array children). */
export function isSameJob(job: JobView, recordJobId: string): boolean {
  return recordJobId === job.jobId || recordJobId.startsWith(`${job.jobId}:`);
}
