// Figure 3 and start-up: the runner's fixed cost on an empty handler, locally and on AWS, and its own start-up.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBucket, createFunction, putObject } from '../test/integration/harness/fixtures.js';
import { LAMBDA_NODE, lambdaNode } from '../test/support/lambda-node.js';
import { type BenchContext, type Comparison, compare } from './context.js';
import { Floor } from './floor.js';
import { BUCKET } from './overhead.js';
import { RUNNER, runRunner, timed } from './proc.js';
import { EMPTY_HANDLER } from './workload.js';

export interface TrivialResult {
  /** local folder, file event and result: no AWS, no SDK loaded */
  local: Comparison;
  /** deployed function (code cached), event and result on S3 */
  aws: Comparison;
  /** `node dist/run-lambda.mjs --version` vs `node -e 0` */
  startup: Comparison;
  /**
   * `local` and `startup` again on the images' Node.js (the official nodejs22.x build, as the images run the runner on
   * it), interleaved with the same floor: the machine's own `node` may be another build and release.
   */
  imagesNode: { version: string; local: Comparison; startup: Comparison };
}

export async function measureTrivial(ctx: BenchContext): Promise<TrivialResult> {
  const { h, scratch, reps, progress } = ctx;
  const dir = join(scratch, 'trivial');
  const task = join(dir, 'task');
  const opt = join(dir, 'opt');
  await mkdir(task, { recursive: true });
  await mkdir(opt, { recursive: true });
  await writeFile(join(task, 'lambda_function.py'), EMPTY_HANDLER);
  const event = join(dir, 'event.json');
  await writeFile(event, '{}');
  await createFunction(h, { name: 'bench-trivial', files: { 'lambda_function.py': EMPTY_HANDLER } });
  await createBucket(h, BUCKET);
  await putObject(h, BUCKET, 'trivial/in.json', {});

  const cache = join(dir, 'cache');
  const localArgs = ['--cache-dir', cache, task, event, join(dir, 'runner-result.json')];
  const awsArgs = (o: string) => [
    '--cache-dir',
    cache,
    '--opt-dir',
    o,
    'bench-trivial',
    `s3://${BUCKET}/trivial/in.json`,
    `s3://${BUCKET}/trivial/out.json`,
  ];
  // One run of each first: the runtime client and the code are cached, as on any run after the first.
  await runRunner(localArgs, scratch);
  await runRunner(awsArgs(join(dir, 'opt-prime')), scratch, { env: h.env });

  const local = { runner: [] as number[], floor: [] as number[], rs: [] as Record<string, number>[] };
  const aws = { runner: [] as number[], floor: [] as number[], rs: [] as Record<string, number>[] };
  const fs: Record<string, number>[] = [];
  const start = { runner: [] as number[], node: [] as number[] };
  const node22 = lambdaNode('nodejs22.x');
  const local22 = { runner: [] as number[], rs: [] as Record<string, number>[] };
  const start22 = { runner: [] as number[], node: [] as number[] };
  await runRunner(localArgs, scratch, { node: node22 });
  for (let i = 0; i < reps; i++) {
    progress(`trivial handler and start-up: repetition ${i + 1} of ${reps}`);
    const call = { task, opt, event, result: join(dir, 'floor-result.json') };
    const f = new Floor(h, ctx.python);
    await f.handler('python3 runs the handler', call);
    local.floor.push(f.total);
    const r = await runRunner(localArgs, scratch);
    local.runner.push(r.ms);
    local.rs.push(r.steps);
    const r22 = await runRunner(localArgs, scratch, { node: node22 });
    local22.runner.push(r22.ms);
    local22.rs.push(r22.steps);

    const fa = new Floor(h, ctx.python);
    await fa.s3Get('S3 GET event (curl)', BUCKET, 'trivial/in.json', event);
    await fa.handler('python3 runs the handler', call);
    await fa.s3Put('S3 PUT result (curl)', call.result, BUCKET, 'trivial/floor-out.json');
    aws.floor.push(fa.total);
    fs.push(fa.steps);
    const awsOpt = join(dir, `opt-${i}`);
    const ra = await runRunner(awsArgs(awsOpt), scratch, { env: h.env });
    await rm(awsOpt, { recursive: true, force: true });
    aws.runner.push(ra.ms);
    aws.rs.push(ra.steps);

    start.node.push((await timed(process.execPath, ['-e', '0'])).ms);
    start.runner.push((await timed(process.execPath, [RUNNER, '--version'])).ms);
    start22.node.push((await timed(node22, ['-e', '0'])).ms);
    start22.runner.push((await timed(node22, [RUNNER, '--version'])).ms);
  }
  return {
    local: compare(local.runner, local.floor, { runner: local.rs }),
    aws: compare(aws.runner, aws.floor, { runner: aws.rs, baseline: fs }),
    startup: compare(start.runner, start.node),
    imagesNode: {
      version: LAMBDA_NODE['nodejs22.x'].version,
      local: compare(local22.runner, local.floor, { runner: local22.rs }),
      startup: compare(start22.runner, start22.node),
    },
  };
}
