// Image-function jobs as processes (test/e2e/image-functions.test.ts runs the same in containers where a Docker engine
// answers): the dispatcher's two-container job → the harness's executor runs the runner, the gate and the function's
// "image" (a folder with a stand-in of /lambda-entrypoint.sh and the stand-in runtime clients) as processes that
// share this machine's loopback → result, run record, exit codes.
// Gaps filled, each in its file: moto's Batch refuses ecsProperties definitions (harness/front-batch-ecs.ts) and runs
// nothing (harness/batch-exec.ts, batch-task.ts: a private port stands for the task's own 127.0.0.1:9001); images are
// folders (harness/local-images.ts); moto's Lambda checks no image (harness/fixtures.ts createImageFunction).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readConfig } from '../../functions/dispatcher/config.js';
import { createHandler } from '../../functions/dispatcher/handler.js';
import { createJsonLogger } from '../../lib/logger.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { CONTEXT, DISPATCHER_ENV, startWorld, type World } from './dispatcher-fixtures.js';
import { executeJob } from './harness/batch-exec.js';
import { ACCOUNT_ID, createImageFunction, createRole, getObject, REGION } from './harness/fixtures.js';
import {
  type FunctionImageSpec,
  folderImage,
  type LocalImage,
  SILENT_PYTHON_APP,
} from './harness/local-images.js';

const REGISTRY = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com`;

const PY = `import os

def handler(event, context):
    return {"echo": event, "function": context.function_name, "batch": os.environ.get("RUN_LAMBDA_JOB"),
            "stage": os.environ["STAGE"]}
`;
const NODE = `export const handler = async (event, context) => ({ echo: event, function: context.functionName });
`;
const FAILING = `def handler(event, context):
    raise KeyError("band %s" % event["band"])
`;

// Reads its remaining time, then spends `pause` seconds of it (an item set's next item must see that much less).
const CLOCK = `import time

def handler(event, context):
    left = context.get_remaining_time_in_millis()
    time.sleep(event.get("pause", 0))
    return {"remaining": left}
`;

// Its runtime dies mid-invocation: SIGKILLed (as the OOM killer or a crash in native code would end it), after
// `after` seconds of work.
const DYING = `import os, signal, sys, time

def handler(event, context):
    print("handler started", file=sys.stderr, flush=True)
    time.sleep(event.get("after", 0))
    os.kill(os.getpid(), signal.SIGKILL)
`;

const FNS: [string, FunctionImageSpec][] = [
  ['jobs-py', { runtime: 'python', files: { 'app.py': PY }, cmd: ['app.handler'] }],
  ['jobs-node', { runtime: 'nodejs', files: { 'index.mjs': NODE }, cmd: ['index.handler'] }],
  ['jobs-fail', { runtime: 'python', files: { 'app.py': FAILING }, cmd: ['app.handler'] }],
  ['jobs-silent', { runtime: 'python', files: { 'app.py': SILENT_PYTHON_APP }, cmd: ['app.handler'] }],
  ['jobs-clock', { runtime: 'python', files: { 'app.py': CLOCK }, cmd: ['app.handler'] }],
  ['jobs-dying', { runtime: 'python', files: { 'app.py': DYING }, cmd: ['app.handler'] }],
];

let w: World;
let dir: string;
let dispatch: (event: unknown) => Promise<BatchJobAnswer>;
const images = new Map<string, LocalImage>();
before(async () => {
  w = await startWorld();
  dir = await mkdtemp(join(tmpdir(), 'image-jobs-'));
  const config = readConfig({
    ...DISPATCHER_ENV,
    ALLOWED_IMAGE_REPOSITORIES: `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/jobs/*`,
    RUNNER_IMAGE: 'cirrusgeo/run-lambda:0.1.0-provided.al2023',
    JOB_ROLE_ARN: await createRole(w.h, 'jobs-job-role', 'ecs-tasks.amazonaws.com'),
    JOB_EXECUTION_ROLE_ARN: await createRole(w.h, 'jobs-exec-role', 'ecs-tasks.amazonaws.com'),
  });
  const handler = createHandler({
    ...w.h.frontClients,
    config,
    logger: createJsonLogger({ service: 'dispatcher', level: 'error', write: () => {} }),
  });
  dispatch = (event) => handler(event, CONTEXT) as Promise<BatchJobAnswer>;
  for (const [name, spec] of FNS) {
    const fn = await createImageFunction(w.h, {
      name,
      imageUri: `${REGISTRY}/jobs/${name}:v1`,
      command: spec.cmd,
      env: { STAGE: 'test' },
    });
    images.set(fn.resolvedImage, await folderImage(join(dir, name), spec));
  }
});
after(async () => {
  await w?.h.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const run = (jobId: string, env: Record<string, string> = {}) =>
  executeJob(w.h, jobId, {
    images: (image) => images.get(image),
    processEnv: { RUN_LAMBDA_CACHE_DIR: join(dir, 'cache'), RUN_LAMBDA_OPT_DIR: join(dir, `opt-${jobId}`) },
    env,
  });
const read = async (url: string) => {
  const { bucket, key } = parseS3Url(url);
  return getObject(w.h, bucket, key);
};

for (const [fn, expected] of [
  ['jobs-py', { echo: { n: 1 }, function: 'jobs-py', batch: '1', stage: 'test' }],
  ['jobs-node', { echo: { n: 1 }, function: 'jobs-node' }],
] as const) {
  test(`${fn}: the runner, the gate and the function's image as processes; the result and the run record land on S3`, async () => {
    const answer = await dispatch({ lambda_function: fn, payload: { n: 1 } });
    const r = await run(answer.job_id);
    assert.equal(r.exitCode, 0, `${r.stderr}\n--- function:\n${r.containers?.function?.stderr}`);
    assert.equal(r.containers?.ready?.exitCode, 0);
    assert.equal(r.containers?.function?.ranIn, images.get(answer.function_image ?? '')?.describe);
    assert.deepEqual(JSON.parse(String(await read(answer.url_out))), expected);
    const record = JSON.parse(String(await read(answer.record_url))) as { status: string; exit_code: number };
    assert.deepEqual([record.status, record.exit_code], ['succeeded', 0]);
  });
}

test('a failing handler: exit 1, its error type in the last line and the record, nothing at url_out', async () => {
  const answer = await dispatch({ lambda_function: 'jobs-fail', payload: { band: 'B9' } });
  const r = await run(answer.job_id);
  assert.equal(r.exitCode, 1, r.stderr);
  assert.match(r.lastLine, /^KeyError: /);
  assert.equal(await read(answer.url_out), undefined);
  const record = JSON.parse(String(await read(answer.record_url))) as {
    status: string;
    error: { errorType: string };
  };
  assert.deepEqual([record.status, record.error.errorType], ['failed', 'KeyError']);
});

test('a runtime that never asks for an invocation: exit 3 after --init-timeout (RUN_LAMBDA_INIT_TIMEOUT), nothing at url_out', async () => {
  const answer = await dispatch({ lambda_function: 'jobs-silent', payload: { n: 1 } });
  const r = await run(answer.job_id, { RUN_LAMBDA_INIT_TIMEOUT: '2' });
  assert.equal(r.exitCode, 3, r.stderr);
  assert.equal(await read(answer.url_out), undefined);
  assert.ok(r.containers?.function?.started, 'the function started, and was stopped at the task’s end');
});

test("an image function's item set: each child serves its items to one runtime; every item's result lands", async () => {
  const answer = await dispatch({
    lambda_function: 'jobs-py',
    payloads: [{ i: 0 }, { i: 1 }, { i: 2 }],
    items_per_job: 2,
  });
  assert.equal(answer.array_size, 2);
  for (const child of [0, 1]) {
    const r = await run(`${answer.job_id}:${child}`);
    assert.equal(r.exitCode, 0, r.stderr);
  }
  for (const i of [0, 1, 2]) {
    const out = JSON.parse(String(await read(`${answer.url_out}${i}.json`))) as { echo: unknown };
    assert.deepEqual(out.echo, { i });
  }
});

for (const after of [0, 1]) {
  test(`a runtime that dies ${after ? 'mid-invocation' : 'right after taking the event'}: seen within seconds (not at the job's timeout), exit 1 Runtime.ExitError, its record, nothing at url_out`, async () => {
    const answer = await dispatch({ lambda_function: 'jobs-dying', payload: { after } });
    // Batch's SIGTERM at the attempt's end, here a minute away: a runner that does not see the runtime go waits for it.
    const r = await executeJob(w.h, answer.job_id, {
      images: (image) => images.get(image),
      processEnv: { RUN_LAMBDA_CACHE_DIR: join(dir, 'cache'), RUN_LAMBDA_OPT_DIR: join(dir, 'opt-dying') },
      env: { RUN_LAMBDA_LOG_LEVEL: 'debug' },
      killAfterMs: 60_000,
    });
    assert.equal(r.exitCode, 1, `${r.stderr}\n--- function:\n${r.containers?.function?.stderr}`);
    assert.match(
      r.lastLine,
      /^Runtime\.ExitError: the function's runtime \(process \d+, python3\) ended before it returned a result$/,
    );
    assert.match(r.stderr, /the function's runtime is process \d+ \(python3\); watching it/);
    assert.equal(r.containers?.function?.signal, 'SIGKILL', 'the function container’s process was what died');
    assert.equal(await read(answer.url_out), undefined);
    const record = JSON.parse(String(await read(answer.record_url))) as {
      status: string;
      exit_code: number;
      error: { errorType: string };
    };
    assert.deepEqual(
      [record.status, record.exit_code, record.error.errorType],
      ['failed', 1, 'Runtime.ExitError'],
    );
  });
}

test('the request’s timeout is the handler’s deadline: its remaining time is the job’s (less the runner’s margin), not 24 h', async () => {
  const answer = await dispatch({ lambda_function: 'jobs-clock', payload: {}, timeout: 120 });
  const r = await run(answer.job_id);
  assert.equal(r.exitCode, 0, `${r.stderr}\n--- function:\n${r.containers?.function?.stderr}`);
  const { remaining } = JSON.parse(String(await read(answer.url_out))) as { remaining: number };
  assert.ok(remaining <= 110_000 && remaining > 90_000, `remaining ${remaining} ms of a 120 s job`);
});

test("an item set's items see the job's remaining time shrink, item after item", async () => {
  const answer = await dispatch({
    lambda_function: 'jobs-clock',
    payloads: [{ pause: 1 }, { pause: 1 }, { pause: 0 }],
    items_per_job: 3,
    timeout: 120,
  });
  const r = await run(answer.job_id);
  assert.equal(r.exitCode, 0, r.stderr);
  const left: number[] = [];
  for (const i of [0, 1, 2])
    left.push(
      (JSON.parse(String(await read(`${answer.url_out}${i}.json`))) as { remaining: number }).remaining,
    );
  assert.ok(left[0]! <= 110_000 && left[0]! > 90_000, `item 0: ${left[0]} ms`);
  assert.ok(left[1]! <= left[0]! - 1000 && left[2]! <= left[1]! - 1000, `items: ${left.join(', ')} ms`);
});

// The executor itself, with a stand-in runner that serves one invocation on the address it is given (so this part
// runs whatever the runner can do): the gate waits for its port, the function's image starts with the definition's
// command and environment, connects, and is stopped when the runner exits.
const STAND_IN_RUNNER = `import { createServer } from 'node:http';
const argv = process.argv.slice(2);
const [host, port] = argv[argv.indexOf('--runtime-api') + 1].split(':');
const event = JSON.stringify({ from: 'stand-in runner', args: argv.slice(-3) });
const server = createServer((req, res) => {
  if (req.url.endsWith('/invocation/next')) {
    res.writeHead(200, { 'lambda-runtime-aws-request-id': 'r1', 'lambda-runtime-deadline-ms': String(Date.now() + 60000),
      'lambda-runtime-invoked-function-arn': argv.at(-3) });
    res.end(event);
    return;
  }
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => { res.writeHead(202); res.end(); console.log(body); process.exit(req.url.endsWith('/response') ? 0 : 1); });
});
server.listen(Number(port), host);
`;

for (const [fn, runtime] of [
  ['jobs-py', 'python'],
  ['jobs-node', 'nodejs'],
] as const) {
  test(`the executor runs a ${runtime} image function's job: gate, then the function's image, which the runner serves`, async () => {
    const runner = join(dir, 'stand-in-runner.mjs');
    await writeFile(runner, STAND_IN_RUNNER);
    const answer = await dispatch({ lambda_function: fn, payload: { n: 2 } });
    const r = await executeJob(w.h, answer.job_id, {
      runScript: runner,
      images: (image) => images.get(image),
    });
    assert.equal(r.exitCode, 0, `${r.stderr}\n--- function:\n${r.containers?.function?.stderr}`);
    assert.deepEqual(r.command.slice(1, 4), ['--external-runtime', '--runtime-api', r.command[3]]);
    assert.notEqual(r.command[3], '127.0.0.1:9001', 'a private port stands for the task’s own loopback');
    assert.equal(r.containers?.ready?.exitCode, 0);
    const result = JSON.parse(r.stdout) as { echo: { args: string[] }; function: string };
    assert.deepEqual(result.echo.args, [
      `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${fn}`,
      answer.url,
      answer.url_out,
    ]);
    assert.equal(result.function, fn);
    assert.ok(
      r.containers?.function?.signal || r.containers?.function?.exitCode !== null,
      'the function container ended with the task',
    );
  });
}
