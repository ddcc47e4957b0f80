import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { BUCKET, CONTEXT, fnArn, sqsRecord, startWorld, type World } from './dispatcher-fixtures.js';

let w: World;
before(async () => {
  w = await startWorld();
});
after(() => w?.h.stop());

/** Records the front's calls made by `fn` and asserts no payload write and no job came of them. */
async function nothingWritten<T>(fn: () => Promise<T>): Promise<T> {
  w.h.front.clear();
  const keysBefore = await w.keysUnder('');
  const out = await fn();
  assert.equal(w.h.front.calls('s3', 'PutObject').length, 0, 'a payload was written');
  assert.equal(w.h.front.calls('batch', 'SubmitJob').length, 0, 'a job was submitted');
  assert.deepEqual(await w.keysUnder(''), keysBefore);
  return out;
}

const big = { blob: 'x'.repeat(10_000) };

function deepPayload(levels: number): unknown {
  let v: unknown = {};
  for (let i = 0; i < levels; i++) v = { v };
  return v;
}

// Each: the request and the field the InvalidRequestError must name first.
const invalid: [Record<string, unknown> | unknown[] | string, string][] = [
  ['not an object', 'request'],
  [[{ lambda_function: 'plain-task', payload: big }], 'request'],
  [{ payload: big }, 'lambda_function'],
  [{ lambda_function: 'plain task', payload: big }, 'lambda_function'],
  [{ lambda_function: 'plain-task', payload: big, extra: 1 }, 'extra'],
  [{ lambda_function: 'plain-task', payload: big, url: 's3://bkt/k.json' }, 'payload'],
  [{ lambda_function: 'plain-task' }, 'payload'],
  [{ lambda_function: 'plain-task', payload: null }, 'payload'],
  [{ lambda_function: 'plain-task', url: 'https://example.com/k.json' }, 'url'],
  [{ lambda_function: 'plain-task', url: 's3://bkt' }, 'url'],
  [{ lambda_function: 'plain-task', payload: big, url_out: '/tmp/out.json' }, 'url_out'],
  [{ lambda_function: 'plain-task', payload: big, image: 'docker' }, 'image'],
  [{ lambda_function: 'plain-task', payload: big, queue: 'no such queue' }, 'queue'],
  [{ lambda_function: 'plain-task', payload: big, name: 'plain-task:$LATEST' }, 'name'],
  [{ lambda_function: 'plain-task', payload: big, vcpus: 0 }, 'vcpus'],
  [{ lambda_function: 'plain-task', payload: big, vcpus: 3.5 }, 'vcpus'],
  [{ lambda_function: 'plain-task', payload: big, memory: 1 }, 'memory'],
  [{ lambda_function: 'plain-task', payload: big, gpus: 0.5 }, 'gpus'],
  [{ lambda_function: 'plain-task', payload: big, timeout: 30 }, 'timeout'],
  [{ lambda_function: 'plain-task', payload: big, attempts: 11 }, 'attempts'],
  [{ lambda_function: 'plain-task', payload: deepPayload(100_000) }, 'payload'],
];

test(`each of ${invalid.length} invalid requests fails with InvalidRequestError naming the field; nothing is called`, async () => {
  const handler = w.handlerWith();
  for (const [req, field] of invalid) {
    await nothingWritten(async () => {
      await assert.rejects(handler(req, CONTEXT), (err: Error) => {
        assert.equal(err.name, 'InvalidRequestError', `${field} case → ${err.name}: ${err.message}`);
        assert.ok(err.message.startsWith(`${field}: `), `${field} expected in: ${err.message}`);
        return true;
      });
      // Validation comes before any AWS call, so not even GetFunction was made.
      assert.equal(w.h.front.requests.length, 0);
    });
  }
});

test('a request without queue when JOB_QUEUE is unset names the queue field', async () => {
  const handler = w.handlerWith({ JOB_QUEUE: '' });
  await nothingWritten(() =>
    assert.rejects(handler({ lambda_function: 'plain-task', payload: big }, CONTEXT), {
      name: 'InvalidRequestError',
      message: /^queue: /,
    }),
  );
});

test('an unknown function fails with FunctionNotFoundError and nothing is written', async () => {
  await nothingWritten(() =>
    assert.rejects(w.handlerWith()({ lambda_function: 'no-such-task', payload: big }, CONTEXT), {
      name: 'FunctionNotFoundError',
      message: /no-such-task/,
    }),
  );
});

test('a function outside ALLOWED_FUNCTIONS fails with FunctionNotAllowedError and nothing is written', async () => {
  const handler = w.handlerWith({ ALLOWED_FUNCTIONS: `${fnArn('geo-*')},${fnArn('tagged-?ask')}` });
  await nothingWritten(() =>
    assert.rejects(handler({ lambda_function: 'plain-task', payload: big }, CONTEXT), {
      name: 'FunctionNotAllowedError',
      message: /plain-task.*ALLOWED_FUNCTIONS/,
    }),
  );
  const ok = await w.invoke(handler, { lambda_function: 'tagged-task', url: 's3://bkt/k.json' });
  assert.ok(ok.job_id);
});

test('by default only the dispatcher account functions are allowed', async () => {
  const foreign = {
    ...CONTEXT,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:999999999999:function:dispatcher',
  };
  // This account's function, asked of a dispatcher in 999999999999: outside its default list, never looked up.
  await nothingWritten(async () => {
    await assert.rejects(w.handlerWith()({ lambda_function: fnArn('plain-task'), payload: big }, foreign), {
      name: 'FunctionNotAllowedError',
    });
    assert.equal(w.h.front.requests.length, 0);
  });
  // A bare name means the dispatcher's own account: 999999999999 has no plain-task.
  await nothingWritten(() =>
    assert.rejects(w.handlerWith()({ lambda_function: 'plain-task', payload: big }, foreign), {
      name: 'FunctionNotFoundError',
    }),
  );
});

test("a request for another account's function is refused before any lookup, even when this account has one of that name", async () => {
  const foreign = 'arn:aws:lambda:us-east-1:999999999999:function:plain-task';
  await nothingWritten(async () => {
    await assert.rejects(w.handlerWith()({ lambda_function: foreign, payload: big }, CONTEXT), {
      name: 'FunctionNotAllowedError',
      message: /999999999999:function:plain-task is not allowed/,
    });
    assert.equal(w.h.front.requests.length, 0, 'nothing was looked up');
  });
});

test("a bare name is checked as this account's ARN; a function outside the list is never looked up", async () => {
  const handler = w.handlerWith({ ALLOWED_FUNCTIONS: fnArn('plain-*') });
  await nothingWritten(async () => {
    await assert.rejects(handler({ lambda_function: 'geo-task', payload: big }, CONTEXT), {
      name: 'FunctionNotAllowedError',
    });
    assert.equal(w.h.front.requests.length, 0);
  });
  const ok = await w.invoke(handler, { lambda_function: 'plain-task', url: 's3://bkt/k.json' });
  assert.ok(ok.job_id);
});

test("an allowed foreign ARN is looked up by that ARN; an answer for this account's namesake is refused", async () => {
  const foreign = 'arn:aws:lambda:us-east-1:999999999999:function:plain-task';
  const handler = w.handlerWith({ ALLOWED_FUNCTIONS: 'arn:aws:lambda:us-east-1:999999999999:function:*' });
  await nothingWritten(async () => {
    // moto resolves by name in its one account, as the bug did: the answer names 123456789012.
    await assert.rejects(handler({ lambda_function: foreign, payload: big }, CONTEXT), {
      name: 'FunctionNotFoundError',
      message: /Lambda answered with arn:aws:lambda:us-east-1:123456789012:function:plain-task/,
    });
    const looked = w.h.front.calls('lambda', 'GetFunctionConfiguration');
    assert.ok(looked.length > 0 && looked.every((r) => r.path.includes('999999999999')));
  });
});

test('the function is read with GetFunctionConfiguration and ListTags, never GetFunction', async () => {
  w.h.front.clear();
  const a = await w.invoke(w.handlerWith(), { lambda_function: 'tagged-task', url: 's3://bkt/k.json' });
  assert.equal(a.image, 'geolambda', 'the batch:image tag came from ListTags');
  const ops = w.h.front
    .calls('lambda')
    .map((r) => r.operation)
    .sort();
  assert.deepEqual(ops, ['GetFunctionConfiguration', 'ListTags']);
});

test('SubmitJob failing (unknown queue) removes the written payload and says which queue', async () => {
  w.h.front.clear();
  const handler = w.handlerWith();
  await assert.rejects(
    handler({ lambda_function: 'plain-task', payload: big, queue: 'missing-queue' }, CONTEXT),
    {
      name: 'SubmitJobError',
      message: /queue missing-queue.*does not exist/,
    },
  );
  const puts = w.h.front.calls('s3', 'PutObject');
  assert.equal(puts.length, 1, 'the payload was written before SubmitJob');
  const deletes = w.h.front.calls('s3', 'DeleteObject');
  assert.deepEqual(
    deletes.map((r) => r.path),
    puts.map((r) => r.path),
  );
  assert.match(puts[0]!.path, new RegExp(`^/${BUCKET}/batch/plain-task/[0-9a-f-]{36}\\.json$`));
  assert.deepEqual(await w.keysUnder(puts[0]!.path.slice(`/${BUCKET}/`.length)), []);
});

let batchNo = 0;
/** An SQS event of `bodies`; message ids `m<i>-<batch>`, fresh per event (they key idempotency: docs/dispatcher.md "Idempotency"). */
function sqsEvent(bodies: string[]): SQSEvent {
  const b = ++batchNo;
  return { Records: bodies.map((body, i) => sqsRecord(`m${i}-${b}`, `r${i}`, body)) };
}

test('an SQS batch of 10 with 2 bad records reports exactly those 2 and submits 8 jobs', async () => {
  const bodies = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify({
      lambda_function: i % 2 ? 'geo-task' : 'plain-task',
      payload: { i, blob: 'y'.repeat(i * 2000) },
    }),
  );
  bodies[3] = '{"lambda_function": "plain-task", "payload": ';
  bodies[7] = JSON.stringify({ lambda_function: 'plain-task', payload: {}, vcpus: -1 });
  w.h.front.clear();
  const event = sqsEvent(bodies);
  const out = (await w.handlerWith()(event, CONTEXT)) as SQSBatchResponse;
  const id = (i: number) => event.Records[i]!.messageId;
  assert.deepEqual(out, { batchItemFailures: [{ itemIdentifier: id(3) }, { itemIdentifier: id(7) }] });
  assert.equal(w.h.front.calls('batch', 'SubmitJob').length, 8);
});

test('each failed SQS record gets one ERROR line naming its message id and the reason, never the payload', async () => {
  const secret = 'sqs-secret-payload-value';
  const bodies = [
    '{"lambda_function": "plain-task", "payload": ',
    JSON.stringify({ lambda_function: 'plain-task', payload: { secret }, vcpus: -1 }),
    JSON.stringify({ lambda_function: 'plain-task', url: 's3://bkt/ok.json' }),
    JSON.stringify({ lambda_function: 'no-such-task', payload: { secret } }),
  ];
  w.logLines.length = 0;
  const event = sqsEvent(bodies);
  const id = (i: number) => event.Records[i]!.messageId;
  const out = (await w.handlerWith()(event, CONTEXT)) as SQSBatchResponse;
  assert.deepEqual(
    out.batchItemFailures.map((f) => f.itemIdentifier),
    [id(0), id(1), id(3)],
  );
  const errors = w.logLines.filter((l) => l.level === 'ERROR');
  assert.deepEqual(
    errors.map((l) => [l.message_id, (l.error as { name: string }).name]),
    [
      [id(0), 'InvalidRequestError'],
      [id(1), 'InvalidRequestError'],
      [id(3), 'FunctionNotFoundError'],
    ],
  );
  assert.match((errors[0]!.error as { message: string }).message, /^body: is not JSON/);
  assert.match((errors[1]!.error as { message: string }).message, /^vcpus: /);
  assert.ok(errors.every((l) => l.function_request_id === 'req-1'));
  assert.ok(!JSON.stringify(w.logLines).includes(secret));
});

test('function lookups are cached per container: two requests, one GetFunction', async () => {
  const handler = w.handlerWith();
  w.h.front.clear();
  await w.invoke(handler, { lambda_function: 'tagged-lambda', url: 's3://bkt/a.json' });
  await w.invoke(handler, { lambda_function: 'tagged-lambda', url: 's3://bkt/b.json' });
  assert.equal(w.h.front.calls('lambda', 'GetFunctionConfiguration').length, 1);
  assert.equal(w.h.front.calls('lambda', 'ListTags').length, 1);
});

test('log lines name the request, function, job, image, payload size and place, never the payload', async () => {
  w.logLines.length = 0;
  const secret = 'do-not-log-this-value';
  const a = await w.invoke(w.handlerWith(), {
    lambda_function: 'geo-task',
    payload: { secret, pad: 'p'.repeat(9000) },
  });
  const line = w.logLines.find((l) => l.message === 'job submitted');
  assert.ok(line, JSON.stringify(w.logLines));
  assert.equal(line.function_request_id, 'req-1');
  assert.equal(line.lambda_function, fnArn('geo-task'));
  assert.equal(line.job_id, a.job_id);
  assert.equal(line.image, 'geolambda');
  assert.equal(line.payload_location, 's3');
  assert.ok((line.payload_size as number) > 9000);
  assert.ok(!JSON.stringify(w.logLines).includes(secret));
});

test('GetFunctionConfiguration refused by IAM is FunctionNotAllowedError; a transient failure is not cached', async () => {
  const fault = w.h.front.fault({
    match: (r) => r.operation === 'GetFunctionConfiguration',
    kind: 'error',
    status: 403,
    code: 'AccessDeniedException',
    message: 'not authorized to perform lambda:GetFunctionConfiguration',
    times: 1,
  });
  const handler = w.handlerWith();
  await nothingWritten(() =>
    assert.rejects(handler({ lambda_function: 'geo-task', payload: big }, CONTEXT), {
      name: 'FunctionNotAllowedError',
      message: /may not read function \S+:function:geo-task: not authorized/,
    }),
  );
  assert.equal(fault.hits, 1);
  const a = await w.invoke(handler, { lambda_function: 'geo-task', url: 's3://bkt/k.json' });
  assert.equal(a.image, 'geolambda');
});
