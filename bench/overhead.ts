// Figures 1 and 2: the runner on a 30 MB function with a 5 MB layer and a 5 MB or 20 MB event, cold and warm, vs the floor.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ACCOUNT_ID,
  createBucket,
  createFunction,
  createLayer,
  getObject,
  putObject,
  REGION,
} from '../test/integration/harness/fixtures.js';
import { type BenchContext, type Comparison, compare } from './context.js';
import { codeLocations, Floor } from './floor.js';
import { runRunner } from './proc.js';
import { MB } from './stats.js';
import { codeZip, itemsPayload, layerZip } from './workload.js';

export const BUCKET = 'bench-payloads';
const FUNCTION = 'bench-big';
const ARN = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${FUNCTION}`;

/** Cold and warm against their floors, for one event size. */
export interface PayloadRuns {
  payloadBytes: number;
  resultBytes: number;
  cold: Comparison;
  warm: Comparison;
}

export interface OverheadResult {
  workload: {
    codeZipBytes: number;
    codeUnzippedBytes: number;
    codeFiles: number;
    layerZipBytes: number;
    payloadBytes: number;
    resultBytes: number;
  };
  /** the 20 MB event */
  cold: Comparison;
  warm: Comparison;
  /** the same function with a 5 MB event and result: where the runner's fixed part weighs more */
  small: PayloadRuns;
  /**
   * Diagnostic: the same event and handler with no AWS at all (a local folder, event and result files),
   * against python3 alone: what the Runtime API hand-over of 20 MB each way costs.
   */
  localNoAws: Comparison;
}

/** Checks a result is the handler's answer to this event (a bench that times a failure measures nothing). */
function checkResult(bytes: Buffer | undefined, event: Buffer): number {
  assert.ok(bytes, 'no result was written');
  const result = JSON.parse(bytes.toString('utf8')) as { count: number; items: string[] };
  const items = (JSON.parse(event.toString('utf8')) as { items: string[] }).items;
  assert.equal(result.count, items.length);
  assert.equal(result.items[0], [...items[0]!].reverse().join(''));
  return bytes.length;
}

const runnerArgs = (cache: string, opt: string, inKey: string, outKey: string) => [
  '--cache-dir',
  cache,
  '--opt-dir',
  opt,
  ARN,
  `s3://${BUCKET}/${inKey}`,
  `s3://${BUCKET}/${outKey}`,
];

type Runs = { runner: number[]; floor: number[]; rs: Record<string, number>[]; fs: Record<string, number>[] };
const runs = (): Runs => ({ runner: [], floor: [], rs: [], fs: [] });

export async function measureOverhead(ctx: BenchContext): Promise<OverheadResult> {
  const { h, scratch, progress } = ctx;
  progress('overhead: building the 30 MB code zip, the 5 MB layer and the 5 MB and 20 MB events');
  const code = await codeZip();
  const layer = await layerZip();
  const layerArn = await createLayer(h, 'bench-layer', layer);
  await createFunction(h, { name: FUNCTION, zip: code.zip, layers: [layerArn], memory: 2048, timeout: 900 });
  await createBucket(h, BUCKET);
  // Warm state for the runner: its cache filled by one run (the floor's code is extracted by its own first run).
  const warmCache = join(scratch, 'warm-cache');
  const prime = await putEvent(ctx, 'prime', MB);
  await runRunner(
    runnerArgs(warmCache, join(scratch, 'warm-opt-prime'), prime.key, 'prime/out.json'),
    scratch,
    {
      env: h.env,
    },
  );
  const small = await measurePayload(ctx, await putEvent(ctx, 'small', 5 * MB), warmCache);
  const big = await putEvent(ctx, 'big', 20 * MB);
  const large = await measurePayload(ctx, big, warmCache);
  return {
    workload: {
      codeZipBytes: code.zip.length,
      codeUnzippedBytes: code.unzippedBytes,
      codeFiles: code.files,
      layerZipBytes: layer.length,
      payloadBytes: large.payloadBytes,
      resultBytes: large.resultBytes,
    },
    cold: large.cold,
    warm: large.warm,
    small,
    localNoAws: await measureLocal(ctx, big.event, warmCache),
  };
}

interface EventPlace {
  prefix: string;
  key: string;
  event: Buffer;
}

async function putEvent(ctx: BenchContext, prefix: string, bytes: number): Promise<EventPlace> {
  const event = itemsPayload(bytes);
  const key = `${prefix}/in.json`;
  await putObject(ctx.h, BUCKET, key, event);
  return { prefix, key, event };
}

/** Cold and warm runs of one event, each interleaved with its floor. */
async function measurePayload(ctx: BenchContext, at: EventPlace, warmCache: string): Promise<PayloadRuns> {
  const { h, scratch, reps, progress } = ctx;
  const floorWarm = join(scratch, `floor-warm-${at.prefix}`);
  await coldFloor(ctx, floorWarm, at, `${at.prefix}/floor-prime.json`);
  let resultBytes = 0;
  const cold = runs();
  const warm = runs();
  for (let i = 0; i < reps; i++) {
    progress(`overhead, ${at.prefix} event: repetition ${i + 1} of ${reps}`);
    const floorDir = join(scratch, `floor-cold-${at.prefix}-${i}`);
    const f = await coldFloor(ctx, floorDir, at, `${at.prefix}/floor-cold-${i}.json`);
    if (i === 0) checkResult(await readFile(join(floorDir, 'result.json')), at.event);
    await rm(floorDir, { recursive: true, force: true });
    cold.floor.push(f.total);
    cold.fs.push(f.steps);

    const runDir = join(scratch, `runner-cold-${at.prefix}-${i}`);
    const outKey = `${at.prefix}/runner-cold-${i}.json`;
    const args = runnerArgs(join(runDir, 'cache'), join(runDir, 'opt'), at.key, outKey);
    const r = await runRunner(args, scratch, { env: h.env });
    if (i === 0) resultBytes = checkResult(await getObject(h, BUCKET, outKey), at.event);
    await rm(runDir, { recursive: true, force: true });
    cold.runner.push(r.ms);
    cold.rs.push(r.steps);

    const fw = await warmFloor(ctx, floorWarm, at, `${at.prefix}/floor-warm-${i}.json`);
    warm.floor.push(fw.total);
    warm.fs.push(fw.steps);

    const opt = join(scratch, `runner-warm-opt-${at.prefix}-${i}`);
    const warmArgs = runnerArgs(warmCache, opt, at.key, `${at.prefix}/runner-warm-${i}.json`);
    const w = await runRunner(warmArgs, scratch, { env: h.env });
    await rm(opt, { recursive: true, force: true });
    warm.runner.push(w.ms);
    warm.rs.push(w.steps);
  }
  return {
    payloadBytes: at.event.length,
    resultBytes,
    cold: compare(cold.runner, cold.floor, { runner: cold.rs, baseline: cold.fs }),
    warm: compare(warm.runner, warm.floor, { runner: warm.rs, baseline: warm.fs }),
  };
}

/** The diagnostic: the event and handler with no AWS at all, against python3 alone. */
async function measureLocal(ctx: BenchContext, event: Buffer, warmCache: string): Promise<Comparison> {
  const { scratch, reps, progress } = ctx;
  const dir = join(scratch, 'floor-warm-big');
  const local = { runner: [] as number[], floor: [] as number[], rs: [] as Record<string, number>[] };
  const eventPath = join(dir, 'event.json');
  const resultPath = join(dir, 'local-result.json');
  const call = { task: join(dir, 'task'), opt: join(dir, 'opt'), event: eventPath, result: resultPath };
  for (let i = 0; i < reps; i++) {
    progress(`overhead, local files: repetition ${i + 1} of ${reps}`);
    const fl = new Floor(ctx.h, ctx.python);
    await fl.handler('python3 runs the handler', call);
    local.floor.push(fl.total);
    const args = ['--cache-dir', warmCache, '--opt-dir', call.opt, '--runtime', 'python3.12'];
    const l = await runRunner([...args, call.task, eventPath, resultPath], scratch);
    if (i === 0) checkResult(await readFile(resultPath), event);
    local.runner.push(l.ms);
    local.rs.push(l.steps);
  }
  return compare(local.runner, local.floor, { runner: local.rs });
}

/** By hand, nothing cached: download both zips, unzip both, get the event, run the handler, put the result. */
async function coldFloor(ctx: BenchContext, dir: string, at: EventPlace, outKey: string): Promise<Floor> {
  await mkdir(dir, { recursive: true });
  const locs = await codeLocations(ctx.h, FUNCTION);
  const f = new Floor(ctx.h, ctx.python);
  await f.download('GET code zip (curl)', locs.code, join(dir, 'code.zip'));
  await f.download('GET layer zip (curl)', locs.layers[0]!, join(dir, 'layer.zip'));
  await f.unzip('unzip code', join(dir, 'code.zip'), join(dir, 'task'));
  await f.unzip('unzip layer', join(dir, 'layer.zip'), join(dir, 'opt'));
  await runHandler(f, dir, at.key, outKey);
  return f;
}

/** By hand, code already extracted: get the event, run the handler, put the result. */
async function warmFloor(ctx: BenchContext, dir: string, at: EventPlace, outKey: string): Promise<Floor> {
  const f = new Floor(ctx.h, ctx.python);
  await runHandler(f, dir, at.key, outKey);
  return f;
}

async function runHandler(f: Floor, dir: string, inKey: string, outKey: string): Promise<void> {
  const eventPath = join(dir, 'event.json');
  const resultPath = join(dir, 'result.json');
  await f.s3Get('S3 GET event (curl)', BUCKET, inKey, eventPath);
  await f.handler('python3 runs the handler', {
    task: join(dir, 'task'),
    opt: join(dir, 'opt'),
    event: eventPath,
    result: resultPath,
  });
  await f.s3Put('S3 PUT result (curl)', resultPath, BUCKET, outKey);
}
