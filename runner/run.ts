// A run of the runner, the top of its parts (docs/architecture.md "The runner"): its options parsed (options.ts), the
// function prepared (prepare.ts) and served (serve.ts) one payload (single.ts) or one child's items of an item set
// (items/run-set.ts), then the result and the run record written. Set up here for both: the context of their records
// and the job's clock.
import { runItemSet } from './items/run-set.js';
import type { RunOptions } from './options.js';
import type { RunDeps, RunResult } from './run-deps.js';
import { jobClock } from './runtime/deadline.js';
import { runSingle } from './single.js';
import { asStopped } from './stop.js';

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
      ...(opts.redriveOf ? { redriveOf: opts.redriveOf } : {}),
    },
  };
  try {
    return await (opts.items ? runItemSet(opts, opts.items, full) : runSingle(opts, full));
  } catch (err) {
    throw asStopped(err, deps.signal, deps.log);
  }
}
