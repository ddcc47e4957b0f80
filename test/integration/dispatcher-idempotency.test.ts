// Idempotency (docs/dispatcher.md "Idempotency"): the same key gives the same answer and never a second job; SQS message ids are keys.
// The claim is an S3 conditional write (If-None-Match: *), which moto 5.2.1 honours on PutObject (412 when the
// key exists) along with If-Match; nothing here fills a gap in the harness.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { DispatchRecord } from '../../functions/dispatcher/idempotency.js';
import { requestSha256 } from '../../functions/dispatcher/idempotency.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import { BUCKET, CONTEXT, fnArn, sqsRecord, startWorld, type World } from './dispatcher-fixtures.js';
import { getJson, putObject } from './harness/fixtures.js';

let w: World;
before(async () => {
  w = await startWorld();
});
after(() => w?.h.stop());

const submitJobs = () => w.h.front.calls('batch', 'SubmitJob');
const big = (tag: string) => ({ tag, blob: 'x'.repeat(10_000) });

function sqsEvent(messageId: string, body: unknown): SQSEvent {
  return { Records: [sqsRecord(messageId, 'r', JSON.stringify(body))] };
}

test('the same idempotency_key twice gives the same answer and one job; the key names the payload objects', async () => {
  w.h.front.clear();
  const req = {
    lambda_function: 'plain-task',
    payload: big('a'),
    idempotency_key: 'feed-2026-12-01-tile-42',
  };
  const first = await w.invoke(w.handlerWith(), req);
  const again = await w.invoke(w.handlerWith(), req);
  assert.deepEqual(again, first);
  assert.equal(submitJobs().length, 1);
  assert.equal(first.url, `s3://${BUCKET}/batch/plain-task/feed-2026-12-01-tile-42.json`);
  assert.equal(first.url_out, `s3://${BUCKET}/batch/plain-task/feed-2026-12-01-tile-42_out.json`);
  assert.equal(first.record_url, `s3://${BUCKET}/batch/plain-task/feed-2026-12-01-tile-42_out.run.json`);
  const record = (await getJson(
    w.h,
    BUCKET,
    'batch/plain-task/feed-2026-12-01-tile-42.dispatch.json',
  )) as DispatchRecord;
  assert.equal(record.status, 'submitted');
  assert.deepEqual(record.answer, first);
  // The second request wrote nothing: its claim was refused (412) and it read the record.
  const puts = w.h.front.calls('s3', 'PutObject').map((r) => [r.path.split('/').pop(), r.status]);
  assert.deepEqual(puts, [
    ['feed-2026-12-01-tile-42.dispatch.json', 200],
    ['feed-2026-12-01-tile-42.json', 200],
    ['feed-2026-12-01-tile-42.dispatch.json', 200],
    ['feed-2026-12-01-tile-42.dispatch.json', 412],
  ]);
});

test('an SQS record delivered twice submits one job; the redelivery succeeds with the first answer', async () => {
  const body = { lambda_function: 'geo-task', payloads: [{ a: 1 }, { a: 2 }, { a: 3 }] };
  w.h.front.clear();
  const handler = w.handlerWith();
  const one = (await handler(sqsEvent('msg-0001', body), CONTEXT)) as SQSBatchResponse;
  const two = (await w.handlerWith()(sqsEvent('msg-0001', body), CONTEXT)) as SQSBatchResponse;
  assert.deepEqual([one, two], [{ batchItemFailures: [] }, { batchItemFailures: [] }]);
  assert.equal(submitJobs().length, 1);
  assert.deepEqual(
    await w.keysUnder('batch/geo-task/msg-0001/in/'),
    [0, 1, 2].map((i) => `batch/geo-task/msg-0001/in/${i}.json`),
  );
  // A body's own key wins over the message id.
  const own = (await handler(
    sqsEvent('msg-0002', { ...body, idempotency_key: 'body-key' }),
    CONTEXT,
  )) as SQSBatchResponse;
  assert.deepEqual(own, { batchItemFailures: [] });
  assert.equal((await w.keysUnder('batch/geo-task/body-key/')).length, 3);
});

test('two deliveries at the same moment: one job; the loser fails its record (retried later), never a second job', async () => {
  const body = { lambda_function: 'plain-task', payload: big('race') };
  w.h.front.clear();
  const results = (await Promise.all([
    w.handlerWith()(sqsEvent('msg-race', body), CONTEXT),
    w.handlerWith()(sqsEvent('msg-race', body), CONTEXT),
  ])) as SQSBatchResponse[];
  assert.equal(submitJobs().length, 1);
  const failures = results.flatMap((r) => r.batchItemFailures);
  assert.ok(failures.length <= 1, JSON.stringify(results));
  if (failures.length === 1) {
    const line = w.logLines.find((l) => l.message === 'record failed' && l.message_id === 'msg-race');
    assert.equal((line?.error as { name?: string })?.name, 'IdempotencyInProgressError');
  }
  // Delivered again later: answered from the record.
  const later = (await w.handlerWith()(sqsEvent('msg-race', body), CONTEXT)) as SQSBatchResponse;
  assert.deepEqual(later, { batchItemFailures: [] });
  assert.equal(submitJobs().length, 1);
});

test('a key reused for a different request is InvalidRequestError naming idempotency_key and the key; nothing submitted', async () => {
  await w.invoke(w.handlerWith(), {
    lambda_function: 'plain-task',
    payload: { v: 1 },
    idempotency_key: 'reused',
  });
  w.h.front.clear();
  await assert.rejects(
    w.handlerWith()({ lambda_function: 'plain-task', payload: { v: 2 }, idempotency_key: 'reused' }, CONTEXT),
    {
      name: 'InvalidRequestError',
      message: /^idempotency_key: "reused" was already used for a different request \(its record: s3:\/\//,
    },
  );
  assert.equal(submitJobs().length, 0);
  assert.deepEqual(
    w.h.front.calls('s3', 'PutObject').map((r) => r.status),
    [412],
    'only the refused claim: nothing written',
  );
});

test('five direct dispatches of one key at the same moment: one job; each other gets its answer or IdempotencyInProgressError naming the key', async () => {
  const req = { lambda_function: 'plain-task', payload: big('five'), idempotency_key: 'five-at-once' };
  w.h.front.clear();
  // Held back a little, so the five claims meet while the first is still submitting.
  const slow = w.h.front.fault({ match: (r) => r.operation === 'SubmitJob', kind: 'latency', ms: 200 });
  let settled: PromiseSettledResult<BatchJobAnswer>[];
  try {
    settled = await Promise.allSettled(Array.from({ length: 5 }, () => w.invoke(w.handlerWith(), req)));
  } finally {
    slow.remove();
  }
  assert.equal(submitJobs().length, 1, 'one job');
  const answers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  assert.ok(answers.length >= 1);
  assert.ok(answers.every((a) => a.job_id === answers[0]!.job_id));
  for (const s of settled)
    if (s.status === 'rejected') {
      assert.equal((s.reason as Error).name, 'IdempotencyInProgressError');
      assert.match(
        (s.reason as Error).message,
        /idempotency_key "five-at-once" is under way until .*; try again later/,
      );
    }
  assert.deepEqual(await w.keysUnder('batch/plain-task/five-at-once'), [
    'batch/plain-task/five-at-once.dispatch.json',
    'batch/plain-task/five-at-once.json',
  ]);
  // Asked again once it is done: the same answer, still one job.
  assert.equal((await w.invoke(w.handlerWith(), req)).job_id, answers[0]!.job_id);
  assert.equal(submitJobs().length, 1);
});

test('a refused SubmitJob releases the key, so the corrected retry is dispatched', async () => {
  const req = { lambda_function: 'plain-task', payload: big('q'), idempotency_key: 'bad-queue-first' };
  await assert.rejects(w.handlerWith()({ ...req, queue: 'no-such-queue' }, CONTEXT), {
    name: 'SubmitJobError',
  });
  assert.deepEqual(await w.keysUnder('batch/plain-task/bad-queue-first'), []);
  const a = await w.invoke(w.handlerWith(), req);
  assert.ok(a.job_id);
});

/** A claim left by a dispatcher that died (its lease over), written as the dispatcher would have. */
async function staleClaim(id: string, req: Record<string, unknown>, url: string): Promise<void> {
  const record: DispatchRecord = {
    status: 'submitting',
    owner: 'dead-dispatcher',
    request_sha256: requestSha256({ ...(await import('../../lib/request-parse.js')).parseRequest(req) }),
    created_at: Date.now() - 120_000,
    expires_at: Date.now() - 60_000,
    submit: {
      jobName: 'plain-task',
      jobQueue: 'disp-queue',
      parameters: { lambda_function: fnArn('plain-task'), url, url_out: url.replace(/\.json$/, '_out.json') },
    },
    answer: {} as DispatchRecord['answer'],
  };
  await putObject(w.h, BUCKET, `batch/plain-task/${id}.dispatch.json`, record);
}

test('an abandoned claim whose job was never made is taken over and submitted once', async () => {
  const req = {
    lambda_function: 'plain-task',
    url: 's3://bkt/abandoned.json',
    idempotency_key: 'abandoned-1',
  };
  await staleClaim('abandoned-1', req, 's3://bkt/abandoned.json');
  w.h.front.clear();
  const a = await w.invoke(w.handlerWith(), req);
  assert.equal(submitJobs().length, 1);
  assert.ok(w.h.front.calls('batch', 'ListJobs').length > 0, 'Batch was asked for the job first');
  const ifMatch = w.h.front.calls('s3', 'PutObject').find((r) => r.headers['if-match']);
  assert.ok(ifMatch, 'the takeover was conditional on the record read');
  assert.equal((await w.invoke(w.handlerWith(), req)).job_id, a.job_id);
});

test('an abandoned claim whose job exists is answered with that job, nothing submitted', async () => {
  const url = 's3://bkt/abandoned-2.json';
  const req = { lambda_function: 'plain-task', url, idempotency_key: 'abandoned-2' };
  // The dead dispatcher got its job in: submit it as it would have.
  const made = await w.invoke(w.handlerWith(), { lambda_function: 'plain-task', url });
  await staleClaim('abandoned-2', req, url);
  w.h.front.clear();
  const a = await w.invoke(w.handlerWith(), req);
  assert.equal(a.job_id, made.job_id);
  assert.equal(submitJobs().length, 0);
});

test('an idempotency_key without PAYLOAD_BUCKET is a ConfigError (no place for the record); SQS ids are then not keys', async () => {
  const handler = w.handlerWith({ PAYLOAD_BUCKET: '' });
  await assert.rejects(
    handler({ lambda_function: 'plain-task', url: 's3://bkt/k.json', idempotency_key: 'k1' }, CONTEXT),
    {
      name: 'ConfigError',
      message: /PAYLOAD_BUCKET .* is required to keep idempotency records/,
    },
  );
  w.h.front.clear();
  const out = await handler(
    sqsEvent('msg-nobucket', { lambda_function: 'plain-task', url: 's3://bkt/k.json' }),
    CONTEXT,
  );
  assert.deepEqual(out, { batchItemFailures: [] });
  assert.equal(w.h.front.calls('s3').length, 0);
  assert.equal(submitJobs().length, 1);
});

test('plan mode with a key names the objects by it and keeps no record (nothing is submitted to guard)', async () => {
  const req = { lambda_function: 'plain-task', payload: big('p'), idempotency_key: 'planned-1', plan: true };
  const a = (await w.invoke(w.handlerWith(), req)) as unknown as Omit<BatchJobAnswer, 'job_id'>;
  const b = (await w.invoke(w.handlerWith(), req)) as unknown as Omit<BatchJobAnswer, 'job_id'>;
  assert.deepEqual(a, b);
  assert.equal(a.url, `s3://${BUCKET}/batch/plain-task/planned-1.json`);
  assert.deepEqual(await w.keysUnder('batch/plain-task/planned-1'), ['batch/plain-task/planned-1.json']);
});
