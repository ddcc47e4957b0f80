// One child of an item set (docs/runner.md "Item sets (array jobs)"; its way from request to record in
// docs/architecture.md "The path of one item"): the function prepared once, one runtime (init once, a fresh one only
// after a crash or a timeout), its items served one after another, the next items fetched while one runs and the
// items' writes overlapping the next ones' run (serve-items.ts). Exit 0 when every item succeeded (or had its result
// already), 1 when any failed; 4 (a transient I/O failure: Batch retries the child, which skips the finished items),
// 3 (the function or its runtime cannot be had) and 128+N (a stop) end the child at once.
import { asRunnerError, ItemsFailedError, StoppedBySignalError } from '../errors.js';
import type { ItemSetOptions, RunOptions } from '../options.js';
import { type RunFacts, recordUrlOf } from '../record/build.js';
import type { RunDeps, RunResult } from '../run-deps.js';
import { openServing } from '../serve.js';
import { asStopped } from '../stop.js';
import { type FetchDeps, itemFinished } from './fetch.js';
import { readItemIndexes } from './index-list.js';
import { type Item, planItems } from './plan.js';
import { type ItemEnd, type ItemWriteDeps, writeFailedItem } from './results.js';
import { serveItems } from './serve-items.js';

export async function runItemSet(opts: RunOptions, set: ItemSetOptions, deps: RunDeps): Promise<RunResult> {
  const { log, env, signal } = deps;
  const now = deps.now ?? Date.now;
  const base: RunFacts = { started: now() };
  const outputUrl = opts.outputUrl as string;
  const indexes =
    set.indexesUrl === undefined ? undefined : await readItemIndexes(set.indexesUrl, set.count, deps);
  const items = await planItems(opts.payloadUrl, outputUrl, set, deps.cwd, indexes);
  log.info(describeShare(set, items, indexes));
  const serving = await openServing(opts, deps);
  const { workDir, timeouts } = serving;
  const io = { workDir, stdin: deps.stdin, log, env, signal, timeouts };
  const writes = { workDir, log, env, timeouts, record: deps.record, now };
  try {
    const { headers, session } = await serving.prepare(base, { retryUntaken: true }).catch(async (err) => {
      base.extensions = serving.extensions();
      const error = asStopped(err, signal, log);
      if (!(error instanceof StoppedBySignalError)) {
        await failUnfinished(items, error, { base, look: !opts.firstAttempt, io, writes });
      }
      throw error;
    });
    base.extensions = serving.extensions();
    const { ends, stop } = await serveItems(items, {
      session,
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
    await serving.close();
  }
}

/**
 * The function could not be had: every item without a result fails with `error`, each with its error part and
 * record. `look`: an earlier attempt of this child may have finished some.
 */
async function failUnfinished(
  items: Item[],
  error: unknown,
  how: { base: RunFacts; look: boolean; io: FetchDeps; writes: ItemWriteDeps },
): Promise<void> {
  for (const item of items) {
    const done = how.look && (await itemFinished(item, how.io).catch(() => false));
    const facts: RunFacts = { ...how.base, payload: { url: recordUrlOf(item.source) } };
    if (!done) await writeFailedItem(item, facts, error, how.writes);
  }
}

/** The log line naming the child's items: a run of the set, or the entries of a redrive's list. */
function describeShare(set: ItemSetOptions, items: Item[], indexes: number[] | undefined): string {
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? 0;
  if (indexes === undefined)
    return `item set: items ${first} to ${last} of ${set.count} (child ${set.index}, ${set.perJob} per child)`;
  const shown = items.map((i) => i.index).join(', ');
  return `item set: items ${shown} of ${set.count}, from the ${indexes.length} of the index list ${set.indexesUrl} (child ${set.index}, ${set.perJob} per child)`;
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
