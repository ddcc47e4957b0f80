// The dispatcher's SDK calls against a server that goes silent: each is bounded by NETWORK_TIMEOUT, so the
// invocation says what happened instead of hanging until Lambda ends it. Clients made as index.ts makes them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ListJobsCommand } from '@aws-sdk/client-batch';
import { readConfig } from '../../functions/dispatcher/config.js';
import { createHandler } from '../../functions/dispatcher/handler.js';
import { dispatcherClients } from '../../functions/dispatcher/index.js';
import { createJsonLogger } from '../../lib/logger.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import { CONTEXT, DISPATCHER_ENV, startWorld, type World } from '../integration/dispatcher-fixtures.js';
import type { RecordedRequest } from '../integration/harness/index.js';

let w: World;
const made: { destroy(): void }[] = [];
before(async () => {
  w = await startWorld();
});
after(async () => {
  for (const c of made) c.destroy();
  await w?.h.stop();
});

let n = 0;
/**
 * A handler with 3 s of NETWORK_TIMEOUT (a loaded moto answers well within it), its clients made from an env that
 * names the harness, as in Lambda.
 */
function fresh() {
  const i = ++n;
  const prefix = `timeouts-${i}/`;
  const name = `timeout-job-${i}`;
  const config = readConfig({
    ...DISPATCHER_ENV,
    PAYLOAD_PREFIX: prefix,
    INLINE_PAYLOAD_LIMIT: '0',
    NETWORK_TIMEOUT: '3',
    LOG_LEVEL: 'error',
  });
  const clients = dispatcherClients(
    {
      AWS_ENDPOINT_URL: w.h.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    },
    config,
  );
  made.push(...Object.values(clients));
  const logger = createJsonLogger({ service: 'dispatcher', level: 'error', write: () => {} });
  const handler = createHandler({ ...clients, config, logger });
  w.h.front.clear();
  w.h.front.clearFaults();
  return {
    prefix,
    name,
    dispatch: () =>
      handler(
        { lambda_function: 'plain-task', payload: { i, blob: 'p'.repeat(2000) }, name },
        CONTEXT,
      ) as Promise<BatchJobAnswer>,
  };
}

const op = (service: string, operation: string) => (r: RecordedRequest) =>
  r.service === service && r.operation === operation;

async function jobIdsNamed(name: string): Promise<string[]> {
  const list = await w.h.clients.batch.send(
    new ListJobsCommand({ jobQueue: w.queueArn, filters: [{ name: 'JOB_NAME', values: [name] }] }),
  );
  return (list.jobSummaryList ?? []).map((j) => j.jobId ?? '');
}

test('a SubmitJob Batch took but whose answer goes silent: after NETWORK_TIMEOUT the job it made is found and answered, never sent twice', async () => {
  const f = fresh();
  // The request reaches Batch; the answer's headers and 5 bytes come back, then nothing.
  w.h.front.fault({ match: op('batch', 'SubmitJob'), times: 1, kind: 'stall', afterBytes: 5 });
  const answer = await f.dispatch();
  assert.equal(
    w.h.front.calls('batch', 'SubmitJob').length,
    1,
    'a SubmitJob whose answer was lost is not resent',
  );
  assert.ok(w.h.front.calls('batch', 'ListJobs').length >= 1, 'the job was looked up');
  assert.deepEqual(await jobIdsNamed(f.name), [answer.job_id]);
});

test('a SubmitJob that never answers (it never reached Batch): an error naming the timeout, the payload kept, no job', async () => {
  const f = fresh();
  w.h.front.fault({ match: op('batch', 'SubmitJob'), kind: 'stall' });
  await assert.rejects(f.dispatch(), {
    name: 'SubmitJobError',
    message: /answer was lost and the job was not found .*its payload stays at s3:\/\/.*timed out/,
  });
  w.h.front.clearFaults();
  assert.deepEqual(await jobIdsNamed(f.name), []);
  assert.equal((await w.keysUnder(f.prefix)).length, 1, 'the payload stays: the job may exist');
});

test('a payload PutObject that goes silent once is sent again after NETWORK_TIMEOUT: one job, its payload there', async () => {
  const f = fresh();
  const stall = w.h.front.fault({ match: op('s3', 'PutObject'), times: 1, kind: 'stall' });
  const answer = await f.dispatch();
  assert.equal(stall.hits, 1);
  assert.equal(w.h.front.calls('s3', 'PutObject').length, 2, 'the stalled write and its retry');
  assert.deepEqual(await jobIdsNamed(f.name), [answer.job_id]);
  assert.equal((await w.keysUnder(f.prefix)).length, 1);
});

test('a function lookup that never answers: the dispatch fails once the retries run out, nothing written, no job', async () => {
  const f = fresh();
  w.h.front.fault({ match: (r) => r.service === 'lambda', kind: 'stall' });
  await assert.rejects(f.dispatch(), (err: Error) => {
    assert.match(err.message, /timed out/, err.message);
    return true;
  });
  w.h.front.clearFaults();
  assert.equal(w.h.front.calls('batch', 'SubmitJob').length, 0);
  assert.deepEqual(await w.keysUnder(f.prefix), []);
});
