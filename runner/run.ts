// A run of the runner: one payload (single.ts) or one child's items of an item set (items/run-set.ts), and what
// both share: how a stop turns whatever failed into StoppedBySignalError, and the context of their run records.
import type { Readable, Writable } from 'node:stream';
import type { Env } from '../lib/env.js';
import { StoppedBySignalError } from './errors.js';
import { runItemSet } from './items/run-set.js';
import type { Logger } from './log.js';
import type { RunOptions } from './options.js';
import type { RecordContext } from './record/build.js';
import { type JobClock, jobClock } from './runtime/deadline.js';
import type { SpawnFn } from './runtime/process.js';
import { runSingle } from './single.js';

export interface RunDeps {
  env: Env;
  cwd: string;
  stdin: Readable;
  stdout: Writable;
  log: Logger;
  spawn: SpawnFn;
  /** Aborted with the signal name (e.g. 'SIGTERM') as its reason. */
  signal?: AbortSignal;
  /** The Lambda base images' runtime folder (default /var/runtime). */
  imageRuntimeDir?: string;
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

/** Rejects with StoppedBySignalError as soon as `signal` aborts (for steps that cannot be interrupted). */
export function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StoppedBySignalError((signal.reason as NodeJS.Signals) ?? 'SIGTERM'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * After a stop, whatever failed failed because of it (a cut stdin read, an aborted GetObject): the run was stopped,
 * exit 128+N, never a retried 4 or a function error.
 */
export function asStopped(err: unknown, signal: AbortSignal | undefined, log: Logger): unknown {
  if (!signal?.aborted || err instanceof StoppedBySignalError) return err;
  log.debug(`after the stop: ${(err as Error)?.message ?? String(err)}`);
  return new StoppedBySignalError((signal.reason as NodeJS.Signals) ?? 'SIGTERM');
}

export async function run(
  opts: RunOptions,
  deps: Omit<RunDeps, 'record' | 'job'> & { version?: string },
): Promise<RunResult> {
  const started = deps.processStarted ?? (deps.now ?? Date.now)();
  const full: RunDeps = {
    ...deps,
    ...(opts.jobTimeoutSeconds === undefined ? {} : { job: jobClock(started, opts.jobTimeoutSeconds) }),
    record: {
      version: deps.version ?? '0.0.0-dev',
      ...(opts.imageRuntime ? { imageRuntime: opts.imageRuntime } : {}),
      ...(opts.batch ? { batch: opts.batch } : {}),
    },
  };
  try {
    return await (opts.items ? runItemSet(opts, opts.items, full) : runSingle(opts, full));
  } catch (err) {
    throw asStopped(err, deps.signal, deps.log);
  }
}
