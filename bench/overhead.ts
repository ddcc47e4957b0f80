// Figures 1 and 2: the runner on a 30 MB function with a 5 MB layer and a 20 MB event, cold and warm, vs the floor.
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
const IN_KEY = 'big/in.json';

export interface OverheadResult {
  workload: {
    codeZipBytes: number;
    codeUnzippedBytes: number;
    codeFiles: number;
    layerZipBytes: number;
    payloadBytes: number;
    resultBytes: number;
  };
  cold: Comparison;
  warm: Comparison;
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

export async function measureOverhead(ctx: BenchContext): Promise<OverheadResult> {
  const { h, scratch, reps, progress } = ctx;
  progress('overhead: building the 30 MB code zip, the 5 MB layer and the 20 MB event');
  const code = await codeZip();
  const layer = await layerZip();
  const event = itemsPayload(20 * MB);
  const layerArn = await createLayer(h, 'bench-layer', layer);
  await createFunction(h, { name: FUNCTION, zip: code.zip, layers: [layerArn], memory: 2048, timeout: 900 });
  await createBucket(h, BUCKET);
  await putObject(h, BUCKET, IN_KEY, event);
  const runnerArgs = (cache: string, opt: string, outKey: string) => [
    '--cache-dir',
    cache,
    '--opt-dir',
    opt,
    ARN,
    `s3://${BUCKET}/${IN_KEY}`,
    `s3://${BUCKET}/${outKey}`,
  ];

  // Warm state for both sides: the runner's cache filled by one run, the floor's code extracted once.
  const warmCache = join(scratch, 'warm-cache');
  await runRunner(runnerArgs(warmCache, join(scratch, 'warm-opt-prime'), 'big/prime.json'), scratch, {
    env: ctx.h.env,
  });
  const floorWarm = join(scratch, 'floor-warm');
  await coldFloor(ctx, floorWarm, 'big/floor-prime.json');
  let resultBytes = 0;

  const cold = {
    runner: [] as number[],
    floor: [] as number[],
    rs: [] as Record<string, number>[],
    fs: [] as Record<string, number>[],
  };
  const local = { runner: [] as number[], floor: [] as number[], rs: [] as Record<string, number>[] };
  const warm = {
    runner: [] as number[],
    floor: [] as number[],
    rs: [] as Record<string, number>[],
    fs: [] as Record<string, number>[],
  };
  for (let i = 0; i < reps; i++) {
    progress(`overhead: repetition ${i + 1} of ${reps}`);
    const floorDir = join(scratch, `floor-cold-${i}`);
    const f = await coldFloor(ctx, floorDir, `big/floor-cold-${i}.json`);
    if (i === 0) checkResult(await readFile(join(floorDir, 'result.json')), event);
    await rm(floorDir, { recursive: true, force: true });
    cold.floor.push(f.total);
    cold.fs.push(f.steps);

    const runDir = join(scratch, `runner-cold-${i}`);
    const outKey = `big/runner-cold-${i}.json`;
    const r = await runRunner(runnerArgs(join(runDir, 'cache'), join(runDir, 'opt'), outKey), scratch, {
      env: h.env,
    });
    if (i === 0) resultBytes = checkResult(await getObject(h, BUCKET, outKey), event);
    await rm(runDir, { recursive: true, force: true });
    cold.runner.push(r.ms);
    cold.rs.push(r.steps);

    const fw = await warmFloor(ctx, floorWarm, `big/floor-warm-${i}.json`);
    warm.floor.push(fw.total);
    warm.fs.push(fw.steps);

    const opt = join(scratch, `runner-warm-opt-${i}`);
    const w = await runRunner(runnerArgs(warmCache, opt, `big/runner-warm-${i}.json`), scratch, {
      env: h.env,
    });
    await rm(opt, { recursive: true, force: true });
    warm.runner.push(w.ms);
    warm.rs.push(w.steps);

    const fl = new Floor(h, ctx.python);
    const eventPath = join(floorWarm, 'event.json');
    const resultPath = join(floorWarm, 'local-result.json');
    const call = {
      task: join(floorWarm, 'task'),
      opt: join(floorWarm, 'opt'),
      event: eventPath,
      result: resultPath,
    };
    await fl.handler('python3 runs the handler', call);
    local.floor.push(fl.total);
    const l = await runRunner(
      [
        '--cache-dir',
        warmCache,
        '--opt-dir',
        call.opt,
        '--runtime',
        'python3.12',
        call.task,
        eventPath,
        resultPath,
      ],
      scratch,
    );
    if (i === 0) checkResult(await readFile(resultPath), event);
    local.runner.push(l.ms);
    local.rs.push(l.steps);
  }
  return {
    workload: {
      codeZipBytes: code.zip.length,
      codeUnzippedBytes: code.unzippedBytes,
      codeFiles: code.files,
      layerZipBytes: layer.length,
      payloadBytes: event.length,
      resultBytes,
    },
    cold: compare(cold.runner, cold.floor, { runner: cold.rs, baseline: cold.fs }),
    warm: compare(warm.runner, warm.floor, { runner: warm.rs, baseline: warm.fs }),
    localNoAws: compare(local.runner, local.floor, { runner: local.rs }),
  };
}

/** By hand, nothing cached: download both zips, unzip both, get the event, run the handler, put the result. */
async function coldFloor(ctx: BenchContext, dir: string, outKey: string): Promise<Floor> {
  await mkdir(dir, { recursive: true });
  const locs = await codeLocations(ctx.h, FUNCTION);
  const f = new Floor(ctx.h, ctx.python);
  await f.download('GET code zip (curl)', locs.code, join(dir, 'code.zip'));
  await f.download('GET layer zip (curl)', locs.layers[0]!, join(dir, 'layer.zip'));
  await f.unzip('unzip code', join(dir, 'code.zip'), join(dir, 'task'));
  await f.unzip('unzip layer', join(dir, 'layer.zip'), join(dir, 'opt'));
  await runHandler(f, dir, outKey);
  return f;
}

/** By hand, code already extracted: get the event, run the handler, put the result. */
async function warmFloor(ctx: BenchContext, dir: string, outKey: string): Promise<Floor> {
  const f = new Floor(ctx.h, ctx.python);
  await runHandler(f, dir, outKey);
  return f;
}

async function runHandler(f: Floor, dir: string, outKey: string): Promise<void> {
  const eventPath = join(dir, 'event.json');
  const resultPath = join(dir, 'result.json');
  await f.s3Get('S3 GET event (curl)', BUCKET, IN_KEY, eventPath);
  await f.handler('python3 runs the handler', {
    task: join(dir, 'task'),
    opt: join(dir, 'opt'),
    event: eventPath,
    result: resultPath,
  });
  await f.s3Put('S3 PUT result (curl)', resultPath, BUCKET, outKey);
}
