// The Node feeder example end to end: built runner + built layer; the guard keeps a Batch run inline, Lambda submits.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { runProcess } from '../support/process.js';
import { executeJob } from './harness/batch-exec.js';
import { createFunction, createLayer, getJson, putObject } from './harness/fixtures.js';
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

test('outside Batch a local run submits itself, and the dispatcher refuses its placeholder account before any lookup', async () => {
  h.front.clear();
  // A local run's context names account 000000000000 (the runner cannot know one): not this account's
  // node-feeder, so the dispatcher must not look up or submit the namesake it has.
  await createFunction(h, { name: 'node-feeder', runtime: 'nodejs22.x', handler: 'index.handler' });
  const r = await run(['--opt-dir', LAYER, FEEDER, PAYLOAD, '-'], {
    ...h.env,
    BATCH_DISPATCHER_FUNCTION: 'dispatcher',
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /FunctionNotAllowedError: function arn:aws:lambda:us-east-1:000000000000:function:node-feeder/,
  );
  assert.equal(h.front.calls('lambda', 'Invoke').length, 1, 'the feeder did ask the dispatcher');
  assert.equal(h.front.calls('lambda', 'GetFunctionConfiguration').length, 0);
  assert.equal(h.front.calls('batch', 'SubmitJob').length, 0);
});

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
  await putObject(h, 'payloads', 'in/feed.json', JSON.parse(await readFile(PAYLOAD, 'utf8')));
  const opt = await mkdtemp(join(work, 'opt-'));
  // Lambda's Node.js runtime provides the AWS SDK v3 (/var/runtime/node_modules); the repo's stands in for it.
  const lambda = await run(['--opt-dir', opt, 'deployed-feeder', 's3://payloads/in/feed.json', '-'], {
    ...h.env,
    NODE_PATH: `${root}node_modules`,
  });
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
