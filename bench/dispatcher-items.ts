// Figure 6: submit throughput of an item set: 10,000 payloads in one dispatcher request (one SubmitJob, an array
// of 100), against the bare PutObject calls for the same items and one SubmitJob, in the same run.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createBatchEnvironment, registerJobDefinition } from '../test/integration/harness/batch-fixtures.js';
import { createBucket, createFunction } from '../test/integration/harness/fixtures.js';
import { type BenchContext, type Comparison, compare } from './context.js';
import { ROOT, timed } from './proc.js';

const BUNDLE = join(ROOT, 'dist/dispatcher/index.mjs');
const PROBE = join(ROOT, 'bench/dispatcher-probe.mjs');
export const ITEMS = 10_000;

export interface ItemSetResult {
  items: number;
  itemsPerJob: number;
  /** dispatcher wall time vs the bare writes + one SubmitJob */
  submit: Comparison;
  /** items per second the dispatcher stored and submitted (median run) */
  itemsPerSecond: number;
  /** SubmitJob calls the dispatcher made per request (the front's count): 1 */
  submitJobCallsPerRequest: number;
  arraySize: number;
}

export async function measureItemSets(ctx: BenchContext): Promise<ItemSetResult> {
  const { h, progress } = ctx;
  const reps = Math.min(ctx.reps, 3);
  await createBucket(h, 'bench-items');
  await createBatchEnvironment(h, 'bench-items');
  await registerJobDefinition(h, { name: 'run-lambda-items' });
  await createFunction(h, { name: 'bench-items-fn' });
  const env = {
    ...h.env,
    PAYLOAD_BUCKET: 'bench-items',
    JOB_QUEUE: 'bench-items-queue',
    JOB_DEFINITION_LAMBDA: 'run-lambda-items',
    LOG_LEVEL: 'warn',
    BENCH_FUNCTION: 'bench-items-fn',
  };
  progress(`dispatcher: ${ITEMS} payloads in one request, ${reps} times, against the bare writes`);
  h.front.clear();
  const out = join(ctx.scratch, 'dispatcher-items.json');
  await timed(process.execPath, [PROBE, 'items', BUNDLE, out, String(reps)], { env });
  const r = JSON.parse(await readFile(out, 'utf8')) as {
    dispatcherMs: number[];
    baselineMs: number[];
    answers: { array_size: number; item_count: number }[];
  };
  await rm(out, { force: true });
  // Both sides submit once per run; the baseline's read its items from sdk-items/.
  const submits = h.front
    .calls('batch', 'SubmitJob')
    .filter(
      (c) => !(c.body as { parameters?: { url?: string } }).parameters?.url?.includes('/sdk-items/'),
    ).length;
  const submit = compare(r.dispatcherMs, r.baselineMs);
  return {
    items: ITEMS,
    itemsPerJob: 100,
    submit,
    itemsPerSecond: Math.round(ITEMS / (submit.runnerMs / 1000)),
    submitJobCallsPerRequest: submits / reps,
    arraySize: r.answers[0]?.array_size ?? 0,
  };
}
