import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { RUN_LAMBDA_JOB_TIMEOUT } from '../../lib/job-plan.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import {
  BUCKET,
  CONTEXT,
  DISPATCHER_ENV,
  fnArn as FN_ARN,
  startWorld,
  type World,
} from './dispatcher-fixtures.js';
import { getJson } from './harness/fixtures.js';

let w: World;
before(async () => {
  w = await startWorld();
});
after(() => w?.h.stop());

const dispatcher = () => w.handlerWith();
const invoke: World['invoke'] = (handler, event) => w.invoke(handler, event);
const describe: World['describe'] = (id) => w.describe(id);
const handlerWith: World['handlerWith'] = (env) => w.handlerWith(env);

function lastSubmit(): Record<string, unknown> {
  const calls = w.h.front.calls('batch', 'SubmitJob');
  assert.ok(calls.length > 0, 'no SubmitJob reached the front');
  return calls.at(-1)!.body as Record<string, unknown>;
}

const big = (n: number) => ({ type: 'FeatureCollection', blob: 'x'.repeat(n) });

test('a large payload is written to s3://$PAYLOAD_BUCKET/batch/<function>/<id>.json and the job carries that URL', async () => {
  const payload = big(20_000);
  const answer = await invoke(dispatcher(), { lambda_function: 'plain-task', payload });
  const m = /^s3:\/\/dispatch-payloads\/batch\/plain-task\/([0-9a-f-]{36})\.json$/.exec(answer.url);
  assert.ok(m, answer.url);
  assert.equal(answer.url_out, `s3://${BUCKET}/batch/plain-task/${m[1]}_out.json`);
  assert.deepEqual(await getJson(w.h, BUCKET, `batch/plain-task/${m[1]}.json`), payload);
  const job = await describe(answer.job_id);
  assert.deepEqual(job.parameters, {
    lambda_function: FN_ARN('plain-task'),
    url: answer.url,
    url_out: answer.url_out,
  });
  assert.equal(answer.image, 'lambda');
  assert.equal(answer.job_queue, 'disp-queue');
  assert.equal(answer.job_definition, 'run-lambda');
});

test('a small payload travels inline as a data: URL; its url_out is under the same prefix; nothing is written', async () => {
  w.h.front.clear();
  const payload = { id: 'item-1', process: { tasks: {} } };
  const answer = await invoke(dispatcher(), { lambda_function: 'plain-task', payload });
  assert.ok(answer.url.startsWith('data:application/json;base64,'));
  assert.deepEqual(JSON.parse(Buffer.from(answer.url.split(',')[1]!, 'base64').toString('utf8')), payload);
  assert.match(answer.url_out, /^s3:\/\/dispatch-payloads\/batch\/plain-task\/[0-9a-f-]{36}_out\.json$/);
  assert.equal(w.h.front.calls('s3', 'PutObject').length, 0);
  assert.equal((await describe(answer.job_id)).parameters?.url, answer.url);
});

test('INLINE_PAYLOAD_LIMIT=0 writes even a small payload to S3', async () => {
  const answer = await invoke(handlerWith({ INLINE_PAYLOAD_LIMIT: '0' }), {
    lambda_function: 'plain-task',
    payload: {},
  });
  assert.match(answer.url, /^s3:\/\/dispatch-payloads\/batch\/plain-task\//);
  assert.deepEqual(await getJson(w.h, BUCKET, answer.url.slice(`s3://${BUCKET}/`.length)), {});
});

test('a url request passes through unchanged; url_out defaults to _out.json and an explicit one is kept', async () => {
  w.h.front.clear();
  const url = 's3://cirrus-data/batch/workflow/abc.json';
  const a = await invoke(dispatcher(), { lambda_function: 'plain-task', url });
  assert.equal(a.url, url);
  assert.equal(a.url_out, 's3://cirrus-data/batch/workflow/abc_out.json');
  const b = await invoke(dispatcher(), { lambda_function: 'plain-task', url, url_out: 's3://other/o.json' });
  assert.equal(b.url_out, 's3://other/o.json');
  assert.deepEqual((await describe(b.job_id)).parameters, {
    lambda_function: FN_ARN('plain-task'),
    url,
    url_out: 's3://other/o.json',
  });
  assert.equal(w.h.front.calls('s3').length, 0);
});

test('image choice: the request wins, then the batch:image tag, then a GDAL layer, else lambda', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ lambda_function: 'plain-task', image: 'geolambda' }, 'geolambda'],
    [{ lambda_function: 'tagged-task' }, 'geolambda'],
    [{ lambda_function: 'tagged-lambda' }, 'lambda'],
    [{ lambda_function: 'geo-task' }, 'geolambda'],
    [{ lambda_function: 'geo-task', image: 'lambda' }, 'lambda'],
    [{ lambda_function: 'plain-task' }, 'lambda'],
  ];
  for (const [req, image] of cases) {
    const a = await invoke(dispatcher(), { ...req, url: 's3://bkt/k.json' });
    assert.equal(a.image, image, JSON.stringify(req));
    assert.equal(a.job_definition, `run-${image}`);
    assert.match(
      (await describe(a.job_id)).jobDefinition ?? '',
      new RegExp(`:job-definition/run-${image}:1$`),
    );
  }
});

test('the job has the definition, queue, parameters, resources, timeout, attempts and a valid name for $LATEST', async () => {
  const req = {
    lambda_function: `${FN_ARN('plain-task')}:$LATEST`,
    url: 's3://bkt/in.json',
    queue: w.queueArn,
    vcpus: 2,
    memory: 4096,
    gpus: 1,
    timeout: 3600,
    attempts: 3,
  };
  const a = await invoke(dispatcher(), req);
  assert.equal(a.job_name, 'plain-task');
  assert.equal(a.job_queue, w.queueArn);
  const job = await describe(a.job_id);
  assert.equal(job.jobName, 'plain-task');
  assert.equal(job.jobQueue, w.queueArn);
  assert.match(job.jobDefinition ?? '', /job-definition\/run-lambda:1$/);
  // `:$LATEST` is what an unqualified ARN means; the runner gets the plain ARN.
  assert.deepEqual(job.parameters, {
    lambda_function: FN_ARN('plain-task'),
    url: 's3://bkt/in.json',
    url_out: 's3://bkt/in_out.json',
  });
  // moto's DescribeJobs leaves these out, so read them from the SubmitJob request as it reached moto.
  const body = lastSubmit();
  assert.deepEqual((body.containerOverrides as Record<string, unknown>).resourceRequirements, [
    { type: 'VCPU', value: '2' },
    { type: 'MEMORY', value: '4096' },
    { type: 'GPU', value: '1' },
  ]);
  assert.deepEqual(body.timeout, { attemptDurationSeconds: 3600 });
  assert.deepEqual(
    (body.containerOverrides as Record<string, unknown>).environment,
    [{ name: RUN_LAMBDA_JOB_TIMEOUT, value: '3600' }],
    'the runner keeps the handler’s deadline within the attempt',
  );
  assert.equal((body.retryStrategy as Record<string, unknown>).attempts, 3);
  assert.equal(body.jobName, 'plain-task');
});

test('a request name is used as is; CIRRUS_STACK prefixes bare queue and definition names', async () => {
  const handler = handlerWith({ CIRRUS_STACK: 'stk' });
  const a = await invoke(handler, {
    lambda_function: 'plain-task',
    url: 's3://bkt/k.json',
    name: 'my_job-1',
  });
  assert.equal(a.job_name, 'my_job-1');
  assert.equal(a.job_queue, 'stk-disp-queue');
  assert.equal(a.job_definition, 'stk-run-lambda');
  const job = await describe(a.job_id);
  assert.match(job.jobQueue ?? '', /job-queue\/stk-disp-queue$/);
  assert.equal(job.jobName, 'my_job-1');
});

type EntryHandler = (event: unknown, context: typeof CONTEXT) => Promise<BatchJobAnswer>;

/** The container's default handler reads process.env once at import, so the env is set before importing. */
async function entryHandler(specifier: string): Promise<EntryHandler> {
  Object.assign(process.env, w.h.env, DISPATCHER_ENV, { LOG_LEVEL: 'silent' });
  return ((await import(specifier)) as { handler: EntryHandler }).handler;
}

test('the default handler of functions/dispatcher/index.ts works from process.env and keeps error names', async () => {
  const handler = await entryHandler('../../functions/dispatcher/index.js');
  const a = await handler({ lambda_function: 'geo-task', payload: { id: 1 } }, CONTEXT);
  assert.equal((await describe(a.job_id)).jobName, 'geo-task');
  assert.equal(a.image, 'geolambda');
  await assert.rejects(handler({ lambda_function: 'geo-task', payload: {}, vcpus: 0 }, CONTEXT), {
    name: 'InvalidRequestError',
    message: /^vcpus: /,
  });
});

test('the built dist/dispatcher/index.mjs exports a handler that submits through the same path', async () => {
  // `npm test` builds first; rebuilding here would rewrite the file under tests that import it concurrently.
  assert.ok(
    existsSync('dist/dispatcher/index.mjs'),
    'dist/dispatcher/index.mjs is missing: run npm run build',
  );
  const handler = await entryHandler(pathToFileURL('dist/dispatcher/index.mjs').href);
  const a = await handler({ lambda_function: 'plain-task', payload: big(10_000), attempts: 2 }, CONTEXT);
  assert.match(a.url, /^s3:\/\/dispatch-payloads\/batch\/plain-task\/.+\.json$/);
  assert.deepEqual(await getJson(w.h, BUCKET, a.url.slice(`s3://${BUCKET}/`.length)), big(10_000));
  assert.equal((lastSubmit().retryStrategy as Record<string, unknown>).attempts, 2);
  await assert.rejects(handler({ lambda_function: 'nope', url: 's3://bkt/k.json' }, CONTEXT), {
    name: 'FunctionNotFoundError',
  });
});
