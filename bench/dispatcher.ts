// Figure 5: the dispatcher bundle's size, load time, invoke latency (small and 1 MB) and SQS batch vs singles.
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createBatchEnvironment, registerJobDefinition } from '../test/integration/harness/batch-fixtures.js';
import { createBucket, createFunction } from '../test/integration/harness/fixtures.js';
import { type BenchContext, type Comparison, compare } from './context.js';
import { ROOT, timed } from './proc.js';
import { median, percentile, round } from './stats.js';

const BUNDLE = join(ROOT, 'dist/dispatcher/index.mjs');
const PROBE = join(ROOT, 'bench/dispatcher-probe.mjs');
const SAMPLES = 30;

export interface Latency {
  medianMs: number;
  p95Ms: number;
  /** the plain SDK calls the dispatcher must make for this request, same process and endpoint */
  baselineMedianMs: number;
  baselineP95Ms: number;
  /** median dispatcher / median baseline */
  ratio: number;
}

export interface DispatcherResult {
  bundleBytes: number;
  bundleGzipBytes: number;
  /** import of the bundle in a fresh node vs import of the three SDK clients from node_modules */
  load: Comparison;
  /** the first invoke after load (clients created, GetFunction not cached yet), one sample per probe */
  firstInvokeMs: number;
  /** inline payload: one SubmitJob */
  small: Latency;
  /** 1 MB payload: PutObject + SubmitJob */
  oneMb: Latency;
  /** one SQS event of 10 records vs the same 10 requests as sequential direct invokes */
  sqsBatchOf10: Comparison;
  samples: number;
  /** every AWS request of the latency probe (dispatcher and baseline together), by service:operation */
  awsCalls: Record<string, number>;
}

function latency(xs: number[], base: number[]): Latency {
  return {
    medianMs: round(median(xs)),
    p95Ms: round(percentile(xs, 95)),
    baselineMedianMs: round(median(base)),
    baselineP95Ms: round(percentile(base, 95)),
    ratio: round(median(xs) / median(base), 3),
  };
}

async function probe(ctx: BenchContext, mode: string, env: Record<string, string>): Promise<unknown> {
  const out = join(ctx.scratch, `dispatcher-${mode}.json`);
  await timed(process.execPath, [PROBE, mode, BUNDLE, out, String(SAMPLES)], { env });
  const parsed: unknown = JSON.parse(await readFile(out, 'utf8'));
  await rm(out, { force: true });
  return parsed;
}

export async function measureDispatcher(ctx: BenchContext): Promise<DispatcherResult> {
  const { h, reps, progress } = ctx;
  const bundle = await readFile(BUNDLE);
  await createBucket(h, 'bench-dispatch');
  await createBatchEnvironment(h, 'bench');
  await registerJobDefinition(h, { name: 'run-lambda' });
  await registerJobDefinition(h, { name: 'run-geolambda', image: 'cirrusgeo/run-geolambda:latest' });
  await createFunction(h, { name: 'bench-disp' });
  const env = {
    ...h.env,
    PAYLOAD_BUCKET: 'bench-dispatch',
    JOB_QUEUE: 'bench-queue',
    JOB_DEFINITION_LAMBDA: 'run-lambda',
    JOB_DEFINITION_GEOLAMBDA: 'run-geolambda',
    LOG_LEVEL: 'info',
    BENCH_FUNCTION: 'bench-disp',
  };

  const loadBundle: number[] = [];
  const loadSdk: number[] = [];
  for (let i = 0; i < reps; i++) {
    progress(`dispatcher: module load ${i + 1} of ${reps}`);
    loadBundle.push(((await probe(ctx, 'load-bundle', env)) as { ms: number }).ms);
    loadSdk.push(((await probe(ctx, 'load-sdk', env)) as { ms: number }).ms);
  }
  progress(`dispatcher: ${SAMPLES} invokes each of a small and a 1 MB payload, SQS batches`);
  h.front.clear();
  const l = (await probe(ctx, 'latency', env)) as Record<string, number[]> & { firstMs: number };
  const awsCalls: Record<string, number> = {};
  for (const r of h.front.requests)
    awsCalls[`${r.service}:${r.operation}`] = (awsCalls[`${r.service}:${r.operation}`] ?? 0) + 1;
  return {
    bundleBytes: (await stat(BUNDLE)).size,
    bundleGzipBytes: gzipSync(bundle).length,
    load: compare(loadBundle, loadSdk),
    firstInvokeMs: round(l.firstMs),
    small: latency(l.smallMs!, l.sdkSmallMs!),
    oneMb: latency(l.bigMs!, l.sdkBigMs!),
    sqsBatchOf10: compare(l.sqsBatchMs!, l.singlesMs!),
    samples: SAMPLES,
    awsCalls,
  };
}
