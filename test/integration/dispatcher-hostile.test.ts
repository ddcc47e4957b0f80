// What a hostile request does to the dispatcher, on moto through the recording front. Every string a caller sends that
// reaches an object key (an SQS message id, the request's idempotency_key, the function name and qualifier, url and
// url_out) is refused or encoded, and the bucket's listing shows nothing outside `batch/<function>/`; no payload text
// reaches an error message or a log line above debug, whatever the parser says; item sets out of range are refused
// with nothing written.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { DispatchRecord } from '../../functions/dispatcher/idempotency.js';
import { objectIdFor } from '../../lib/object-id.js';
import { hasDotSegment } from '../../lib/s3-url.js';
import { BUCKET, CONTEXT, sqsRecord, startWorld, type World } from './dispatcher-fixtures.js';
import { getJson } from './harness/fixtures.js';

let w: World;
before(async () => {
  w = await startWorld();
});
after(() => w?.h.stop());

const big = (tag: string) => ({ tag, blob: 'x'.repeat(10_000) });
const submitJobs = () => w.h.front.calls('batch', 'SubmitJob');

function sqsEvent(records: [messageId: string, body: unknown][]): SQSEvent {
  return {
    Records: records.map(([id, body], i) =>
      sqsRecord(id, `r${i}`, typeof body === 'string' ? body : JSON.stringify(body)),
    ),
  };
}

/** Runs `fn` and returns the keys it added to the bucket, after checking each stays under `batch/<function>/`. */
async function newKeys(fn: () => Promise<unknown>, functionName = 'plain-task'): Promise<string[]> {
  const before = new Set(await w.keysUnder(''));
  await fn();
  const added = (await w.keysUnder('')).filter((k) => !before.has(k));
  for (const k of added) {
    assert.ok(k.startsWith(`batch/${functionName}/`), `${k} is outside batch/${functionName}/`);
    assert.ok(!hasDotSegment(k), `${k} holds a dot segment`);
    assert.equal(k.slice(`batch/${functionName}/`.length).split('/')[0]!.includes('..'), false, k);
  }
  return added.sort();
}

/** Records the front's calls made by `fn` and asserts no object was written and no job submitted. */
async function nothingWritten<T>(fn: () => Promise<T>): Promise<T> {
  w.h.front.clear();
  const keysBefore = await w.keysUnder('');
  const out = await fn();
  assert.equal(w.h.front.calls('s3', 'PutObject').length, 0, 'an object was written');
  assert.equal(submitJobs().length, 0, 'a job was submitted');
  assert.deepEqual(await w.keysUnder(''), keysBefore);
  return out;
}

test('an SQS message id `../../../escaped` names no key: its objects are encoded under batch/<function>/, its redelivery gets the same job', async () => {
  const handler = w.handlerWith();
  const id = '../../../escaped';
  const enc = objectIdFor(id);
  assert.match(enc, /^\.sha256-[0-9a-f]{64}$/);
  let first: SQSBatchResponse | undefined;
  const single = await newKeys(async () => {
    first = (await handler(
      sqsEvent([[id, { lambda_function: 'plain-task', payload: big('a') }]]),
      CONTEXT,
    )) as SQSBatchResponse;
  });
  assert.deepEqual(first, { batchItemFailures: [] });
  assert.deepEqual(single, [`batch/plain-task/${enc}.dispatch.json`, `batch/plain-task/${enc}.json`]);
  w.h.front.clear();
  const again = await handler(
    sqsEvent([[id, { lambda_function: 'plain-task', payload: big('a') }]]),
    CONTEXT,
  );
  assert.deepEqual(again, { batchItemFailures: [] });
  assert.equal(submitJobs().length, 0, 'the redelivery was answered from its record');

  // An item set under a hostile message id: its items too.
  const setId = 'a/b/../../../../c';
  const set = await newKeys(async () => {
    const out = await handler(
      sqsEvent([[setId, { lambda_function: 'plain-task', payloads: [{ i: 0 }, { i: 1 }] }]]),
      CONTEXT,
    );
    assert.deepEqual(out, { batchItemFailures: [] });
  });
  const setEnc = objectIdFor(setId);
  assert.deepEqual(set, [
    `batch/plain-task/${setEnc}.dispatch.json`,
    `batch/plain-task/${setEnc}/in/0.json`,
    `batch/plain-task/${setEnc}/in/1.json`,
  ]);
});

test("two message ids never share a key: one spelling another's encoding, one ending in .dispatch or _out, each gets its own objects and job", async () => {
  const handler = w.handlerWith();
  const plain = 'msg-7';
  const hostile = '../x';
  // Each id with a payload of its own; a redelivery of each must find its own record and job.
  const ids = [plain, `${plain}.dispatch`, `${plain}_out`, `${plain}_out.run`, hostile, objectIdFor(hostile)];
  const event = sqsEvent(ids.map((id) => [id, { lambda_function: 'plain-task', payload: big(id) }]));
  w.h.front.clear();
  const keys = await newKeys(async () => {
    assert.deepEqual(await handler(event, CONTEXT), { batchItemFailures: [] });
  });
  assert.equal(submitJobs().length, ids.length, 'one job per message');
  const records = keys.filter((k) => k.endsWith('.dispatch.json'));
  assert.equal(records.length, ids.length, `one record per message: ${keys.join(', ')}`);
  // Only the plain id names its objects as it is; every other is encoded, so none writes over msg-7's record or result.
  assert.deepEqual(
    keys.filter((k) => k.includes(plain)),
    [`batch/plain-task/${plain}.dispatch.json`, `batch/plain-task/${plain}.json`],
  );
  const jobIds = new Set<string>();
  for (const k of records) jobIds.add(((await getJson(w.h, BUCKET, k)) as DispatchRecord).answer.job_id!);
  assert.equal(jobIds.size, ids.length, 'a different job in each record');
  w.h.front.clear();
  assert.deepEqual(await handler(event, CONTEXT), { batchItemFailures: [] });
  assert.equal(submitJobs().length, 0, 'each redelivery was answered from its own record');
});

// Each: the request, and the field its InvalidRequestError must name first.
const hostileKeys: [Record<string, unknown>, string][] = [
  ...[
    '../escaped',
    'a/b',
    'k.dispatch',
    'k_out',
    'k_out.run',
    'k.jobdef',
    objectIdFor('../x'),
    'tab\tkey',
  ].map((key): [Record<string, unknown>, string] => [
    { lambda_function: 'plain-task', payload: big('k'), idempotency_key: key },
    'idempotency_key',
  ]),
  [{ lambda_function: '../../escaped', payload: big('f') }, 'lambda_function'],
  [{ lambda_function: 'plain-task/../../escaped', payload: big('f') }, 'lambda_function'],
  [{ lambda_function: 'plain-task:../x', payload: big('f') }, 'lambda_function'],
  [
    { lambda_function: 'arn:aws:lambda:us-east-1:123456789012:function:../x', payload: big('f') },
    'lambda_function',
  ],
  [{ lambda_function: 'plain-task', payload: big('n'), name: '../escaped' }, 'name'],
  [{ lambda_function: 'plain-task', url: `s3://${BUCKET}/batch/plain-task/../../escaped.json` }, 'url'],
  [{ lambda_function: 'plain-task', url: `s3://${BUCKET}/./k.json` }, 'url'],
  [{ lambda_function: 'plain-task', url: `s3://${BUCKET}/batch/../in/`, item_count: 2 }, 'url'],
  [
    {
      lambda_function: 'plain-task',
      payload: big('o'),
      url_out: `s3://${BUCKET}/batch/plain-task/../../../escaped.json`,
    },
    'url_out',
  ],
  [{ lambda_function: 'plain-task', payloads: [{}, {}], url_out: `s3://${BUCKET}/batch/x/../` }, 'url_out'],
];

test(`each of ${hostileKeys.length} requests whose key, function, name, url or url_out would leave its prefix is refused naming the field; nothing written`, async () => {
  const handler = w.handlerWith();
  for (const [req, field] of hostileKeys)
    await nothingWritten(async () => {
      await assert.rejects(handler(req, CONTEXT), (err: Error) => {
        assert.equal(
          err.name,
          'InvalidRequestError',
          `${JSON.stringify(req).slice(0, 120)} → ${err.message}`,
        );
        assert.ok(err.message.startsWith(`${field}: `), `${field} expected in: ${err.message}`);
        return true;
      });
      assert.equal(w.h.front.requests.length, 0, 'refused before any AWS call');
    });
});

test('the same hostile keys in an SQS body fail their records alone; the good record beside them is dispatched', async () => {
  const bodies = hostileKeys.map(([req]) => req);
  const event = sqsEvent([
    ...bodies.map((b, i): [string, unknown] => [`bad-${i}`, b]),
    ['good-1', { lambda_function: 'plain-task', payload: big('good') }],
  ]);
  w.h.front.clear();
  const keys = await newKeys(async () => {
    const out = (await w.handlerWith()(event, CONTEXT)) as SQSBatchResponse;
    assert.deepEqual(
      out.batchItemFailures.map((f) => f.itemIdentifier),
      bodies.map((_, i) => `bad-${i}`),
    );
  });
  assert.deepEqual(keys, ['batch/plain-task/good-1.dispatch.json', 'batch/plain-task/good-1.json']);
  assert.equal(submitJobs().length, 1);
});

const SECRET = 'tok-5ecret-do-not-log';
/** What must never show: V8 quotes only a window of a long input (`"tok-5ecret"...`), so a piece of it. */
const PIECE = '5ecret';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Asserts that no log line above debug, and no message of `errors`, carries a piece of `SECRET` (or its base64). */
function noSecretAboveDebug(errors: Error[]) {
  const above = JSON.stringify(w.logLines.filter((l) => l.level !== 'DEBUG'));
  for (const text of [above, ...errors.map((e) => `${e.message}\n${e.stack}`)]) {
    assert.ok(!text.includes(PIECE), `the secret is in: ${text.slice(0, 400)}`);
    assert.ok(!text.includes(b64(`"${SECRET}"`).slice(0, 16)), `its base64 is in: ${text.slice(0, 400)}`);
  }
}

test('an SQS body that is not JSON: its ERROR line and error say where the parser stopped, never a word of the body', async () => {
  const bodies = [
    `${SECRET} and more`,
    `{"lambda_function": "plain-task", "payload": ${SECRET}}`,
    `{"lambda_function": "plain-task", "payload": {"token": "${SECRET}"}} trailing`,
    `[1, "${SECRET}`,
  ];
  w.logLines.length = 0;
  const event = sqsEvent(bodies.map((b, i) => [`nj-${i}`, b]));
  const out = (await w.handlerWith()(event, CONTEXT)) as SQSBatchResponse;
  assert.equal(out.batchItemFailures.length, bodies.length);
  const errors = w.logLines.filter((l) => l.level === 'ERROR' && l.message === 'record failed');
  assert.equal(errors.length, bodies.length);
  for (const l of errors) {
    const e = l.error as { name: string; message: string };
    assert.equal(e.name, 'InvalidRequestError');
    assert.match(
      e.message,
      /^body: is not JSON \(\d+ characters(; the parser stopped at offset \d+|; it ends before its JSON does)?\)$/,
    );
  }
  noSecretAboveDebug([]);
});

test('a direct invoke whose fields carry payload text is refused naming the field; the text is in neither the error nor an ERROR line', async () => {
  const handler = w.handlerWith();
  const requests = [
    { lambda_function: 'plain-task', payloads: SECRET },
    { lambda_function: 'plain-task', payloads: { token: SECRET } },
    { lambda_function: 'plain-task', url: `data:application/json;base64,${b64(`{"token":"${SECRET}"}`)}` },
    {
      lambda_function: 'plain-task',
      payload: {},
      url_out: `data:application/json;base64,${b64(`"${SECRET}"`)}`,
    },
  ];
  w.logLines.length = 0;
  const errors: Error[] = [];
  for (const req of requests)
    await nothingWritten(() =>
      assert.rejects(handler(req, CONTEXT), (err: Error) => {
        errors.push(err);
        return err.name === 'InvalidRequestError' && /^(payloads|url|url_out): /.test(err.message);
      }),
    );
  assert.equal(w.logLines.filter((l) => l.level === 'ERROR').length, requests.length);
  noSecretAboveDebug(errors);
});

test('a SubmitJob whose answer is lost for an inline payload: the ERROR line names the place (data:…), not the payload', async () => {
  w.logLines.length = 0;
  w.h.front.fault({ match: (r) => r.operation === 'SubmitJob', times: 1, kind: 'drop' });
  const lookup = w.h.front.fault({ match: (r) => r.operation === 'ListJobs', kind: 'error', status: 500 });
  try {
    await assert.rejects(
      w.handlerWith()({ lambda_function: 'plain-task', payload: { token: SECRET } }, CONTEXT),
      {
        name: 'SubmitJobError',
        message: /may have been submitted; nothing was removed/,
      },
    );
  } finally {
    lookup.remove();
  }
  const line = w.logLines.find((l) => l.message === 'SubmitJob outcome unknown; the payload is kept');
  assert.equal(line?.url, 'data:…', JSON.stringify(line));
  noSecretAboveDebug([]);
});

test('items out of range on the dispatcher side: 10,001 payloads, none, or items_per_job outside 1 to 10,000 are refused naming the field; nothing written', async () => {
  const handler = w.handlerWith();
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [
      { payloads: Array.from({ length: 10_001 }, (_, i) => ({ i })) },
      'payloads',
      /1 to 10000 events, got 10001/,
    ],
    [{ payloads: [] }, 'payloads', /got 0/],
    [{ payloads: [{}], items_per_job: 0 }, 'items_per_job', /between 1 and 10000/],
    [{ payloads: [{}], items_per_job: 10_001 }, 'items_per_job', /between 1 and 10000/],
    [{ payloads: [{}], items_per_job: 2.5 }, 'items_per_job', /whole number/],
    [{ payloads: [{}], items_per_job: '2' }, 'items_per_job', /whole number/],
    [{ url: `s3://${BUCKET}/pre/set/in/`, item_count: 10_001 }, 'item_count', /between 1 and 10000/],
  ];
  for (const [fields, field, detail] of cases)
    await nothingWritten(async () => {
      await assert.rejects(handler({ lambda_function: 'plain-task', ...fields }, CONTEXT), (err: Error) => {
        assert.equal(err.name, 'InvalidRequestError', err.message);
        assert.ok(err.message.startsWith(`${field}: `), err.message);
        assert.match(err.message, detail);
        return true;
      });
      assert.equal(w.h.front.requests.length, 0);
    });
});
