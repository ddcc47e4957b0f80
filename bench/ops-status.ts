// Figure 8: `lambda-batch status` on a finished item set of 10,000 items (an array job of 100 children, 100 items
// each): 9,800 succeeded, 150 failed under three error types, 50 missing. The set's outputs are written straight to S3
// (a result and a record per success, a record and an error part per failure), as 100 children would leave them; the
// job is submitted to Batch carrying the dispatcher's parameters and environment. Timed: the built CLI, a process of
// its own, from start to exit (describe the job, list the set, read the 150 failures' records, describe the children
// for the cost). Baseline: the same listing and reads done bare with the SDK in this process.
import { spawn } from 'node:child_process';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { itemUrls } from '../lib/item-set.js';
import { JobParameter, RUN_LAMBDA_ITEM_COUNT, RUN_LAMBDA_ITEMS_PER_JOB } from '../lib/job-plan.js';
import { mapBounded } from '../lib/pool.js';
import { parseS3Url } from '../lib/s3-url.js';
import { createBatchEnvironment, registerJobDefinition } from '../test/integration/harness/batch-fixtures.js';
import { createBucket } from '../test/integration/harness/fixtures.js';
import { failedRecord, succeededRecord } from '../test/support/run-records.js';
import { type BenchContext, type Comparison, compare } from './context.js';
import { ROOT } from './proc.js';

const CLI = `${ROOT}/dist/lambda-batch.mjs`;
const BUCKET = 'bench-ops';
const OUT = `s3://${BUCKET}/batch/bench-task/set/out/`;
export const STATUS_ITEMS = 10_000;
const PER_JOB = 100;
const ERROR_TYPES = ['KeyError', 'ValueError', 'RasterioIOError'];
const FAILED = 150;
const MISSING = 50;

export interface OpsStatusResult {
  items: number;
  failed: number;
  missing: number;
  /** objects under the set's output prefix */
  objects: number;
  /** lambda-batch status (a process) vs the bare listing and failures' reads (in process) */
  status: Comparison;
  /** the CLI's median, in seconds: the figure the issue asks for */
  statusSeconds: number;
  exitCode: number | null;
}

/** How item i ends: the last MISSING items never ran, every 64th before them failed (up to FAILED), else success. */
function fate(i: number): 'succeeded' | 'failed' | 'missing' {
  if (i >= STATUS_ITEMS - MISSING) return 'missing';
  return i % 64 === 7 && Math.floor(i / 64) < FAILED ? 'failed' : 'succeeded';
}

/** The objects a child leaves for item i (none for a missing one). */
function objectsOf(i: number, jobId: string): [string, string][] {
  const urls = itemUrls(OUT, i);
  const batch = {
    job_id: `${jobId}:${Math.floor(i / PER_JOB)}`,
    attempt: 1,
    array_index: Math.floor(i / PER_JOB),
  };
  switch (fate(i)) {
    case 'missing':
      return [];
    case 'succeeded':
      return [
        [urls.result, '{"ok":true}'],
        [urls.record, JSON.stringify(succeededRecord({ batch }, '{"ok":true}', urls.result))],
      ];
    case 'failed': {
      const record = failedRecord(ERROR_TYPES[i % ERROR_TYPES.length]!, `band ${i}`, { batch });
      return [
        [urls.record, JSON.stringify(record)],
        [urls.error, JSON.stringify(record.error)],
      ];
    }
  }
}

async function submitSet(ctx: BenchContext): Promise<string> {
  const { h } = ctx;
  await createBucket(h, BUCKET);
  const env = await createBatchEnvironment(h, 'bench-ops');
  const def = await registerJobDefinition(h, { name: 'run-lambda-ops' });
  const job = await h.clients.batch.send(
    new SubmitJobCommand({
      jobName: 'bench-task',
      jobQueue: env.jobQueueArn,
      jobDefinition: def.jobDefinitionArn,
      arrayProperties: { size: STATUS_ITEMS / PER_JOB },
      parameters: {
        [JobParameter.function]: 'arn:aws:lambda:us-east-1:123456789012:function:bench-task',
        [JobParameter.url]: `s3://${BUCKET}/batch/bench-task/set/in/`,
        [JobParameter.output]: OUT,
      },
      containerOverrides: {
        environment: [
          { name: RUN_LAMBDA_ITEM_COUNT, value: String(STATUS_ITEMS) },
          { name: RUN_LAMBDA_ITEMS_PER_JOB, value: String(PER_JOB) },
        ],
      },
    }),
  );
  return job.jobId!;
}

async function writeOutputs(ctx: BenchContext, jobId: string): Promise<number> {
  const objects = Array.from({ length: STATUS_ITEMS }, (_, i) => objectsOf(i, jobId)).flat();
  ctx.progress(`ops status: writing ${objects.length} objects of a ${STATUS_ITEMS}-item set`);
  await mapBounded(objects, 32, async ([url, body]) => {
    const { bucket, key } = parseS3Url(url);
    await ctx.h.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  });
  return objects.length;
}

/** The CLI's wall time (ms) and exit code. */
function timeCli(ctx: BenchContext, jobId: string): Promise<{ ms: number; code: number | null }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'status', jobId, '--json'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...ctx.h.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && code !== 1 && code !== 75)
        reject(new Error(`lambda-batch status: exit ${code}: ${stderr}`));
      else resolve({ ms: performance.now() - start, code });
    });
  });
}

/** The bare reads status needs: every page of the listing, then each failure's record. */
async function bareReads(ctx: BenchContext): Promise<number> {
  const start = performance.now();
  const s3 = ctx.h.frontClients.s3;
  const { bucket, key } = parseS3Url(`${OUT}x`);
  const prefix = key.slice(0, -1);
  const failed: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key?.endsWith('.error.json')) failed.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await mapBounded(failed, 16, async (k) => {
    const r = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: k.replace(/\.error\.json$/, '.run.json') }),
    );
    await r.Body?.transformToString();
  });
  return performance.now() - start;
}

export async function measureOpsStatus(ctx: BenchContext): Promise<OpsStatusResult> {
  const reps = Math.min(ctx.reps, 3);
  const jobId = await submitSet(ctx);
  const objects = await writeOutputs(ctx, jobId);
  ctx.progress(
    `ops status: lambda-batch status on ${STATUS_ITEMS} items, ${reps} times, against the bare reads`,
  );
  const cli: number[] = [];
  const bare: number[] = [];
  let exitCode: number | null = null;
  for (let i = 0; i < reps; i++) {
    const r = await timeCli(ctx, jobId);
    cli.push(r.ms);
    exitCode = r.code;
    bare.push(await bareReads(ctx));
  }
  const status = compare(cli, bare);
  return {
    items: STATUS_ITEMS,
    failed: FAILED,
    missing: MISSING,
    objects,
    status,
    statusSeconds: Math.round(status.runnerMs) / 1000,
    exitCode,
  };
}
