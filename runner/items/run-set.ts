// One child of an item set (DESIGN.md "Item sets"): the function prepared once, one runtime (init once, a fresh one
// only after a crash or a timeout), its items served one after another, the next items fetched while one runs and the
// items' writes overlapping the next ones' run (serve-items.ts). Exit 0 when every item succeeded (or had its result already), 1 when
// any failed; 4 (a transient I/O failure: Batch retries the child, which skips the finished items), 3 (the function
// or its runtime cannot be had) and 128+N (a stop) end the child at once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { networkTimeouts } from '../../lib/aws-config.js';
import { itemRange } from '../../lib/job-plan.js';
import { asRunnerError, ItemsFailedError, StoppedBySignalError } from '../errors.js';
import { isLocalRef } from '../local.js';
import type { ItemSetOptions, RunOptions } from '../options.js';
import { prepareFunction, runtimeFor } from '../prepare.js';
import { type RunFacts, recordUrlOf } from '../record/build.js';
import type { RunDeps, RunResult } from '../run-deps.js';
import { invocationHeaders } from '../runtime/invocation-headers.js';
import { listenRuntimeApi, type Serving, serveOn } from '../runtime/invoke.js';
import type { RuntimeApi } from '../runtime-api/server.js';
import { abortable, asStopped, settledWithin } from '../stop.js';
import { itemFinished } from './fetch.js';
import { type Item, planItems } from './plan.js';
import { serveItems } from './serve-items.js';
import { type ItemEnd, writeFailedItem } from './write-item.js';

const noop = () => {};

export async function runItemSet(opts: RunOptions, set: ItemSetOptions, deps: RunDeps): Promise<RunResult> {
  const { log, env, signal } = deps;
  const now = deps.now ?? Date.now;
  const base: RunFacts = { started: now() };
  const outputUrl = opts.outputUrl as string;
  const items = await planItems(opts.payloadUrl, outputUrl, set, deps.cwd);
  const { start, end } = itemRange(set.index, set.perJob, set.count);
  log.info(
    `item set: items ${start} to ${end - 1} of ${set.count} (child ${set.index}, ${set.perJob} per child)`,
  );
  const timeouts = networkTimeouts(opts.networkTimeoutSeconds);
  const workDir = await mkdtemp(join(tmpdir(), 'run-lambda-'));
  const io = { workDir, stdin: deps.stdin, log, env, signal, timeouts };
  const writes = { workDir, log, env, timeouts, record: deps.record, now };
  const local = isLocalRef(opts.functionRef, deps.cwd);
  let api: RuntimeApi | undefined;
  let serving: Serving | undefined;
  let preparing: Promise<void> | undefined;
  let cleanupRemote: (() => Promise<void>) | undefined;
  const itemFacts = (item: Item): RunFacts => ({ ...base, payload: { url: recordUrlOf(item.source) } });

  /** Every item without a result fails with `error` (the function could not be had): records for all. */
  const failAll = async (rest: Item[], error: unknown) => {
    for (const item of rest) {
      const done = !opts.firstAttempt && (await itemFinished(item, io).catch(() => false));
      if (!done) await writeFailedItem(item, itemFacts(item), error, writes);
    }
  };

  try {
    if (opts.externalRuntime) api = await listenRuntimeApi(opts.externalRuntime, log);
    const prepared = log.step('prepare the function', () =>
      prepareFunction(opts, deps, workDir, local, timeouts, (d) => {
        base.described = d;
      }),
    );
    preparing = prepared.then((f) => {
      cleanupRemote = f.cleanup;
    }, noop);
    let headers: ReturnType<typeof invocationHeaders>;
    try {
      base.fn = await abortable(prepared, signal);
      headers = invocationHeaders(base.fn, opts);
      const runtime = await runtimeFor(base.fn, opts, deps, workDir, local);
      base.prepared = now();
      api ??= await listenRuntimeApi(undefined, log);
      serving = serveOn(api, {
        fn: base.fn,
        runtime,
        compat: opts.compat,
        env,
        spawn: deps.spawn,
        log,
        signal,
        now,
        retryUntaken: true,
        job: deps.job,
        memoryEvents: opts.memoryEvents,
      });
    } catch (err) {
      const error = asStopped(err, signal, log);
      if (!(error instanceof StoppedBySignalError)) await failAll(items, error);
      throw error;
    }
    const { ends, stop } = await serveItems(items, {
      session: serving.session,
      opts,
      io: { ...io, stdout: deps.stdout },
      writes,
      headers,
      base,
      job: deps.job,
    });
    if (stop !== undefined) throw stop;
    return summarize(ends, outputUrl);
  } finally {
    await serving?.close().catch(noop);
    await api?.close().catch(noop);
    if (preparing) await settledWithin(preparing, 2000);
    await cleanupRemote?.().catch(noop);
    await rm(workDir, { recursive: true, force: true }).catch(noop);
  }
}

/** Exit 0 when every item ended well; else ItemsFailedError naming the failed items and their types (exit 1). */
function summarize(ends: ItemEnd[], outputUrl: string): RunResult {
  const failed = ends.filter((e): e is Extract<ItemEnd, { ok: false }> => !e.ok);
  if (failed.length === 0) return { where: outputUrl, bytes: 0 };
  const shown = failed
    .slice(0, 20)
    .map((f) => `${f.index} (${asRunnerError(f.error).name})`)
    .join(', ');
  const more = failed.length > 20 ? `, and ${failed.length - 20} more` : '';
  throw new ItemsFailedError(
    `${failed.length} of ${ends.length} items failed: ${shown}${more}; their errors are at ${outputUrl}<i>.error.json`,
  );
}
