// What every part of a run is handed (the process's streams, environment, clock and stop signal, and what `run` sets up
// for all of it), and what a run answers.
import type { Readable, Writable } from 'node:stream';
import type { Env } from '../lib/env.js';
import type { Logger } from './log.js';
import type { RecordContext } from './record/build.js';
import type { JobClock } from './runtime/deadline.js';
import type { SpawnFn } from './runtime/process-group.js';

export interface RunDeps {
  env: Env;
  cwd: string;
  /** Asked for only when the payload is `-`: opening process.stdin costs a few ms, and a run rarely reads it. */
  stdin: () => Readable;
  stdout: Writable;
  log: Logger;
  spawn: SpawnFn;
  /** Aborted with the signal name (e.g. 'SIGTERM') as its reason. */
  signal?: AbortSignal;
  /** Where the Lambda base images keep their official runtime client (default /var/runtime). */
  officialClientDir?: string;
  /** Epoch milliseconds (run records' timings, deadlines). */
  now?: () => number;
  /** Who writes the run records (set by `run`). */
  record: RecordContext;
  /**
   * Epoch ms the runner's process started (cli.ts: performance.timeOrigin), from which --job-timeout counts, as
   * Batch counts the attempt's duration from the task's start; `now()` when not given.
   */
  processStarted?: number;
  /** The job's budget, from --job-timeout (set by `run`). */
  job?: JobClock;
}

export interface RunResult {
  /** Where the result went: a path, an s3:// URL or "stdout"; for an item set, its output prefix. */
  where: string;
  bytes: number;
}
