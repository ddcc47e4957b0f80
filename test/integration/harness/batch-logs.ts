// What Batch's awslogs driver does with a job container's output, for the executor (batch-exec.ts): stdout and stderr,
// line by line, to CloudWatch Logs (moto's), in the group the job definition's logConfiguration names (else Batch's
// /aws/batch/job) under the stream name Batch gives it: `<definition>/default/<ECS task id>` for a container job,
// `<definition>/<container>/<ECS task id>` for each container of a multi-container (ecsProperties) job. Lines are
// sent while the container runs (a reader following the job sees them come), every FLUSH_MS, and all of them before
// the executor reports the container ended.
import { randomBytes } from 'node:crypto';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { Harness } from './index.js';

/** Batch's log group when the job definition names none. */
export const BATCH_LOG_GROUP = '/aws/batch/job';
const FLUSH_MS = 200;
/** PutLogEvents takes at most 10,000 events a call; fewer keeps each call small. */
const PER_CALL = 1000;

/** A log configuration as job definitions carry it. */
export interface LogConfig {
  logDriver?: string;
  options?: Record<string, string>;
}

/** The group a container's output goes to. */
export function logGroupOf(config: LogConfig | undefined): string {
  return config?.options?.['awslogs-group'] ?? BATCH_LOG_GROUP;
}

/** An ECS task id (32 hex digits), which names a task's streams; and its ARN. */
export function newTask(): { id: string; arn: string } {
  const id = randomBytes(16).toString('hex');
  return { id, arn: `arn:aws:ecs:us-east-1:123456789012:task/AWSBatch-harness/${id}` };
}

/** The stream Batch names for container `container` (`default` for a container job) of task `taskId`. */
export function streamName(definitionName: string, container: string, taskId: string): string {
  return `${definitionName}/${container}/${taskId}`;
}

/** One container's output on its way to CloudWatch Logs. */
export class LogShipper {
  private pending: { timestamp: number; message: string }[] = [];
  private partial = '';
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    readonly group: string,
    readonly stream: string,
  ) {}

  /** Makes the group (when it is new) and the stream, as the driver does when the container starts. */
  async open(): Promise<void> {
    await this.logs.send(new CreateLogGroupCommand({ logGroupName: this.group })).catch((err: Error) => {
      if (err.name !== 'ResourceAlreadyExistsException') throw err;
    });
    await this.logs.send(
      new CreateLogStreamCommand({ logGroupName: this.group, logStreamName: this.stream }),
    );
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
  }

  /** A chunk of output: each complete line becomes an event, stamped now. */
  write(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    const now = Date.now();
    for (const message of lines) if (message !== '') this.pending.push({ timestamp: now, message });
  }

  private flush(): Promise<void> {
    const batch = this.pending.splice(0, this.pending.length);
    if (batch.length === 0) return this.sending;
    this.sending = this.sending
      .then(async () => {
        for (let i = 0; i < batch.length; i += PER_CALL)
          await this.logs.send(
            new PutLogEventsCommand({
              logGroupName: this.group,
              logStreamName: this.stream,
              logEvents: batch.slice(i, i + PER_CALL),
            }),
          );
      })
      .catch((err: unknown) => {
        this.failed ??= err;
      });
    return this.sending;
  }

  /** Sends what is left, a last line without its newline too. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.partial !== '') this.pending.push({ timestamp: Date.now(), message: this.partial });
    this.partial = '';
    await this.flush();
    if (this.failed) throw this.failed;
  }
}

/** A CloudWatch Logs client straight to the harness's moto (what the awslogs driver writes with). */
export function logsClient(h: Harness): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    endpoint: h.motoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}
