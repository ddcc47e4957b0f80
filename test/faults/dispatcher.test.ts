import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BatchClient, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { THROTTLED_ATTEMPTS } from '../../functions/dispatcher/batch.js';
import { readConfig } from '../../functions/dispatcher/config.js';
import { createHandler } from '../../functions/dispatcher/handler.js';
import { createJsonLogger } from '../../lib/logger.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import {
  BUCKET,
  CONTEXT,
  DISPATCHER_ENV,
  sqsRecord,
  startWorld,
  type World,
} from '../integration/dispatcher-fixtures.js';
import { getJson } from '../integration/harness/fixtures.js';
import type { RecordedRequest } from '../integration/harness/index.js';

let w: World;
let clients: { s3: S3Client; lambda: LambdaClient; batch: BatchClient };
before(async () => {
  w = await startWorld();
  // As index.ts makes them: the SDK's default retries for S3 and Lambda, none for Batch (SubmitJob is not idempotent).
  const base = {
    endpoint: w.h.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  clients = {
    s3: new S3Client({ ...base, forcePathStyle: true }),
    lambda: new LambdaClient(base),
    batch: new BatchClient({ ...base, maxAttempts: 1 }),
  };
});
after(async () => {
  for (const c of Object.values(clients ?? {})) c.destroy();
  await w?.h.stop();
});

/** A virtual clock for the rate limiter and backoff: sleeping advances it at once and is logged, never waited. */
function virtualClock(events: string[] = []) {
  const c = {
    t: 0,
    events,
    now: () => c.t,
    sleep: async (ms: number) => {
      events.push(`sleep ${Math.round(ms)}`);
      c.t += ms;
    },
  };
  return c;
}

let n = 0;
/** A handler writing payloads under a prefix of this test's own, and a request with a job name of its own. */
function fresh(env: Record<string, string> = {}, clock = virtualClock(), batch?: BatchClient) {
  const i = ++n;
  const prefix = `faults-${i}/`;
  const name = `fault-job-${i}`;
  const config = readConfig({
    ...DISPATCHER_ENV,
    PAYLOAD_PREFIX: prefix,
    INLINE_PAYLOAD_LIMIT: '0',
    LOG_LEVEL: 'error',
    ...env,
  });
  const logger = createJsonLogger({ service: 'dispatcher', level: config.logLevel, write: () => {} });
  const handler = createHandler({ ...clients, ...(batch ? { batch } : {}), config, logger, clock });
  const payload = { i, blob: 'p'.repeat(2000) };
  w.h.front.clear();
  w.h.front.clearFaults();
  return {
    prefix,
    name,
    payload,
    handler,
    clock,
    dispatch: () =>
      handler({ lambda_function: 'plain-task', payload, name }, CONTEXT) as Promise<BatchJobAnswer>,
  };
}

/** The jobs named `name` in the queue, with their parameters (straight from moto). */
async function jobsNamed(name: string) {
  const list = await w.h.clients.batch.send(
    new ListJobsCommand({ jobQueue: w.queueArn, filters: [{ name: 'JOB_NAME', values: [name] }] }),
  );
  const ids = (list.jobSummaryList ?? []).map((j) => j.jobId ?? '');
  if (ids.length === 0) return [];
  const { jobs } = await w.h.clients.batch.send(new DescribeJobsCommand({ jobs: ids }));
  return (jobs ?? []).map((j) => ({ jobId: j.jobId ?? '', url: j.parameters?.url ?? '' }));
}

const keyOf = (url: string) => url.slice(`s3://${BUCKET}/`.length);

/** A job and its payload, or neither: every payload under the prefix belongs to a job, every job has its payload. */
async function assertJobsAndPayloadsPaired(
  f: ReturnType<typeof fresh>,
): Promise<{ jobId: string; url: string }[]> {
  const jobs = await jobsNamed(f.name);
  const keys = await w.keysUnder(f.prefix);
  assert.deepEqual(jobs.map((j) => keyOf(j.url)).sort(), keys, 'jobs and payload objects pair up');
  for (const j of jobs) assert.deepEqual(await getJson(w.h, BUCKET, keyOf(j.url)), f.payload);
  return jobs;
}

const op = (service: string, operation: string) => (r: RecordedRequest) =>
  r.service === service && r.operation === operation;

test('SubmitJob answering 500 every time: SubmitJobError, the payload is removed, no job', async () => {
  const f = fresh();
  const fault = w.h.front.fault({ match: op('batch', 'SubmitJob'), kind: 'error', status: 500 });
  await assert.rejects(f.dispatch(), {
    name: 'SubmitJobError',
    message: /SubmitJob failed .*queue disp-queue/,
  });
  assert.equal(fault.hits, 3, 'answered server errors are retried');
  assert.deepEqual(await assertJobsAndPayloadsPaired(f), []);
  assert.equal(w.h.front.calls('s3', 'PutObject').length, 1);
});

test('SubmitJob answering 500 once, then taking the job: one job and its payload', async () => {
  const f = fresh();
  w.h.front.fault({ match: op('batch', 'SubmitJob'), times: 1, kind: 'error', status: 500 });
  const answer = await f.dispatch();
  const jobs = await assertJobsAndPayloadsPaired(f);
  assert.deepEqual(
    jobs.map((j) => j.jobId),
    [answer.job_id],
  );
});

test('the PutObject answer dropped once: the write is retried, one job and its payload', async () => {
  const f = fresh();
  const fault = w.h.front.fault({ match: op('s3', 'PutObject'), times: 1, kind: 'drop' });
  const answer = await f.dispatch();
  assert.equal(fault.hits, 1);
  const jobs = await assertJobsAndPayloadsPaired(f);
  assert.deepEqual(
    jobs.map((j) => j.url),
    [answer.url],
  );
});

test('the PutObject answer dropped every time: PayloadStoreError, the object that landed is removed, no job', async () => {
  const f = fresh();
  const fault = w.h.front.fault({ match: op('s3', 'PutObject'), kind: 'drop' });
  await assert.rejects(f.dispatch(), { name: 'PayloadStoreError' });
  assert.ok(fault.hits >= 2, `the SDK retried (${fault.hits} attempts)`);
  assert.equal(w.h.front.calls('batch', 'SubmitJob').length, 0);
  assert.deepEqual(await assertJobsAndPayloadsPaired(f), []);
});

test('SubmitJob taken by Batch but its answer lost: no second job is submitted, the job made is found and answered', async () => {
  const f = fresh();
  w.h.front.fault({ match: op('batch', 'SubmitJob'), times: 1, kind: 'drop' });
  const answer = await f.dispatch();
  const submits = w.h.front.calls('batch', 'SubmitJob');
  assert.equal(submits.length, 1, 'a SubmitJob whose answer was lost is not sent again');
  assert.equal(answer.job_id, (submits[0]?.response as { jobId?: string } | undefined)?.jobId);
  const jobs = await assertJobsAndPayloadsPaired(f);
  assert.deepEqual(
    jobs.map((j) => j.jobId),
    [answer.job_id],
  );
});

test('SubmitJob answer lost and the lookup failing too: an error saying so, and the payload stays with its job', async () => {
  const f = fresh();
  w.h.front.fault({ match: op('batch', 'SubmitJob'), times: 1, kind: 'drop' });
  w.h.front.fault({ match: op('batch', 'ListJobs'), kind: 'error', status: 500 });
  await assert.rejects(f.dispatch(), {
    name: 'SubmitJobError',
    message: /answer was lost .*may have been submitted; its payload stays at s3:\/\//,
  });
  w.h.front.clearFaults();
  const jobs = await assertJobsAndPayloadsPaired(f);
  assert.equal(jobs.length, 1, 'the job Batch made keeps its payload');
  assert.equal(w.h.front.calls('s3', 'DeleteObject').length, 0);
});

test('a throttled SubmitJob (429) is submitted once after a jittered backoff: one job and its payload', async () => {
  const clock = virtualClock();
  const f = fresh({}, clock);
  // An observer first (it never matches, so it sees every request), then the fault for the first two tries.
  w.h.front.fault({
    match: (r) => {
      if (op('batch', 'SubmitJob')(r)) clock.events.push('SubmitJob');
      return false;
    },
    kind: 'latency',
    ms: 0,
  });
  w.h.front.fault({ match: op('batch', 'SubmitJob'), times: 2, kind: 'error', status: 429 });
  const answer = await f.dispatch();
  const submits = w.h.front.calls('batch', 'SubmitJob');
  assert.deepEqual(
    submits.map((r) => r.status),
    [429, 429, 200],
  );
  // Each throttled try was followed by a backoff before the next one (order, not time, is asserted).
  assert.deepEqual(
    clock.events.map((e) => e.replace(/\d+/, 'N')),
    ['SubmitJob', 'sleep N', 'SubmitJob', 'sleep N', 'SubmitJob'],
  );
  const jobs = await assertJobsAndPayloadsPaired(f);
  assert.deepEqual(
    jobs.map((j) => j.jobId),
    [answer.job_id],
  );
});

test('SubmitJob throttled every time: SubmitJobError after THROTTLED_ATTEMPTS tries, the payload removed, no job', async () => {
  const f = fresh();
  w.h.front.fault({ match: op('batch', 'SubmitJob'), kind: 'error', status: 429 });
  await assert.rejects(f.dispatch(), { name: 'SubmitJobError', message: /TooManyRequests|Injected 429/ });
  assert.equal(w.h.front.calls('batch', 'SubmitJob').length, THROTTLED_ATTEMPTS);
  assert.deepEqual(await assertJobsAndPayloadsPaired(f), []);
});

test('an SQS batch of 30 requests never makes more than SUBMIT_RATE SubmitJob calls in any one second', async () => {
  const clock = virtualClock();
  // Stamp each SubmitJob with the virtual time as the SDK sends it (a real request; the client only observes).
  const sent: number[] = [];
  const batch = new BatchClient({
    endpoint: w.h.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
  batch.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SubmitJobCommand') sent.push(clock.now());
      return next(args);
    },
    { step: 'finalizeRequest' },
  );
  const f = fresh({ SUBMIT_RATE: '5', SQS_CONCURRENCY: '10' }, clock, batch);
  const records = Array.from({ length: 30 }, (_, i) =>
    sqsRecord(
      `rate-${i}`,
      'r',
      JSON.stringify({ lambda_function: 'plain-task', url: `s3://bkt/rate/${i}.json`, name: f.name }),
      'q',
    ),
  );
  const out = await f.handler({ Records: records } as never, CONTEXT);
  batch.destroy();
  assert.deepEqual(out, { batchItemFailures: [] });
  assert.equal(w.h.front.calls('batch', 'SubmitJob').length, 30);
  assert.equal(sent.length, 30);
  for (let i = 5; i < sent.length; i++)
    assert.ok(sent[i]! - sent[i - 5]! >= 1000, `SubmitJob ${i} went within a second of ${i - 5}`);
  // …and no slower than it must: 30 calls at 5 per second take six windows.
  assert.equal(sent.at(-1), 5000);
});
