// The Node feeder example end to end: built runner + built layer; the guard keeps a Batch run inline, Lambda submits.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { runProcess } from '../support/process.js';
import { executeJob } from './harness/batch-exec.js';
import { createFunction, createLayer, getJson } from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';
import type { ZipSpec } from './harness/zip.js';
import { serveBuiltDispatcher } from './helper-dispatcher.js';

const root = new URL('../../', import.meta.url).pathname;
const RUNNER = `${root}dist/run-lambda.mjs`;
const LAYER = `${root}dist/layer`;
const FEEDER = `${root}examples/node-feeder`;
const PAYLOAD = `${FEEDER}/payload.json`;
const EXPECTED = { processed: 3, total: 12 };

let h: Harness;
let work: string;

before(async () => {
  assert.ok(existsSync(RUNNER) && existsSync(LAYER), 'run `npm run build` first');
  work = await mkdtemp(join(tmpdir(), 'helper-feeder-'));
  h = await startHarness();
  await serveBuiltDispatcher(h);
});

after(async () => {
  await h?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

// Async on purpose: the Invoke endpoint the feeder calls is served by this very process.
function run(args: string[], env: Record<string, string>) {
  return runProcess(process.execPath, [RUNNER, '--no-cache', '--log-level', 'warn', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, ...env },
  });
}

async function filesOf(dir: string, into: ZipSpec = {}, base = dir): Promise<ZipSpec> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await filesOf(p, into, base);
    else into[relative(base, p)] = await readFile(p);
  }
  return into;
}

test('inside a Batch job the feeder runs inline with the layer from --opt-dir and touches no network', async () => {
  h.front.clear();
  const r = await run(['--opt-dir', LAYER, FEEDER, PAYLOAD, '-'], {
    AWS_BATCH_JOB_ID: 'job-local-1',
    // Anything that tried AWS would fail: no dispatcher, no credentials, a closed port.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ...EXPECTED, batch_job_id: 'job-local-1' });
  assert.equal(h.front.requests.length, 0);
});

test('run by the runner outside Batch (a laptop, Kubernetes), the feeder still runs inline: RUN_LAMBDA_JOB=1', async () => {
  h.front.clear();
  const r = await run(['--opt-dir', LAYER, FEEDER, PAYLOAD, '-'], {
    // No AWS_BATCH_JOB_ID: only the runner's RUN_LAMBDA_JOB tells the helper it is inside a job.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    BATCH_DISPATCHER_FUNCTION: 'dispatcher',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ...EXPECTED });
  assert.match(r.stderr, /processing 3 items inline \(in Batch: true\)/);
  assert.equal(h.front.requests.length, 0, 'no submission, no AWS call');
});

/** The feeder's handler called as Lambda's Node.js runtime calls it: the layer and the SDK on NODE_PATH, a context. */
function inLambda(functionName: string, event: unknown) {
  // The function's logs go to stderr, as Lambda keeps them apart from the answer.
  const driver = `
console.log = console.error;
const { handler } = require(${JSON.stringify(`${FEEDER}/index.js`)});
const context = {
  awsRequestId: 'lambda-request-1',
  functionName: ${JSON.stringify(functionName)},
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + ${JSON.stringify(functionName)},
  getRemainingTimeInMillis: () => 60000,
};
handler(JSON.parse(process.argv[1]), context).then((r) => process.stdout.write(JSON.stringify(r)));`;
  return runProcess(process.execPath, ['-e', driver, JSON.stringify(event)], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      ...h.env,
      BATCH_DISPATCHER_FUNCTION: 'dispatcher',
      // Lambda puts the layer's /opt/nodejs/node_modules and its own AWS SDK v3 on NODE_PATH.
      NODE_PATH: `${LAYER}/nodejs/node_modules:${root}node_modules`,
    },
  });
}

test('deployed with the layer, the feeder submits from Lambda and its Batch job runs it inline to S3', async () => {
  h.front.clear();
  const layerArn = await createLayer(h, 'cirrus-batch', await filesOf(LAYER), ['nodejs22.x', 'python3.12']);
  await createFunction(h, {
    name: 'deployed-feeder',
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    files: await filesOf(FEEDER),
    layers: [layerArn],
    env: { BATCH_DISPATCHER_FUNCTION: 'dispatcher' },
  });
  // In Lambda (no runner, no Batch): the guard submits the function itself.
  const lambda = await inLambda('deployed-feeder', JSON.parse(await readFile(PAYLOAD, 'utf8')));
  assert.equal(lambda.code, 0, lambda.stderr);
  const { submitted } = JSON.parse(lambda.stdout) as { submitted: { job_id: string; url_out: string } };
  const batchOpt = await mkdtemp(join(work, 'opt-'));
  const job = await executeJob(h, submitted.job_id, {
    env: { RUN_LAMBDA_OPT_DIR: batchOpt, RUN_LAMBDA_NO_CACHE: 'true' },
  });
  assert.equal(job.exitCode, 0, job.stderr);
  const out = submitted.url_out.replace('s3://payloads/', '');
  assert.deepEqual(await getJson(h, 'payloads', out), { ...EXPECTED, batch_job_id: submitted.job_id });
  assert.equal(h.front.calls('batch', 'SubmitJob').length, 1, 'the Batch run did not submit again');
});
