import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidRequestError } from '../../lib/errors.js';
import {
  MAX_PAYLOAD_DEPTH,
  nestsDeeperThan,
  parseRequest,
  parseRequestBody,
} from '../../lib/request-parse.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:my-task';
const SET = { lambda_function: 'f', url: 's3://bkt/s/in/', item_count: 10 };
const JOB_ID = '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b';

test('a redrive: a set url with item_count, its index list under the set, and the job it runs again', () => {
  const raw = { ...SET, item_indexes: 's3://bkt/s/in/redrive-1.json', items_per_job: 2, redrive_of: JOB_ID };
  // The list's place comes with it, parsed once: the dispatcher reads the list by it.
  const indexListAt = { bucket: 'bkt', key: 's/in/redrive-1.json' };
  assert.deepEqual(parseRequest(structuredClone(raw)), { ...raw, indexListAt });
  // A single job run again names the job as well; an array child's id is a job id too.
  const single = { lambda_function: 'f', url: 's3://bkt/k.json', redrive_of: `${JOB_ID}:7` };
  assert.deepEqual(parseRequest(structuredClone(single)), single);
});

test('a payload request keeps every given option and drops absent ones', () => {
  const every = {
    lambda_function: FN,
    payload: { a: 1 },
    image: 'geolambda',
    queue: 'q',
    name: 'job_1',
    vcpus: 2,
    memory: 4096,
    gpus: 0,
    timeout: 7200,
    attempts: 3,
    url_out: 's3://bkt/out.json',
  };
  const req = parseRequest(structuredClone(every));
  assert.deepEqual(req, every);
  assert.deepEqual(parseRequest({ lambda_function: 'my-task', payload: [] }), {
    lambda_function: 'my-task',
    payload: [],
  });
});

test('a url request (Cirrus pre-batch output plus the function) parses unchanged', () => {
  const raw = {
    lambda_function: `${FN}:$LATEST`,
    url: 's3://bkt/batch/x.json',
    url_out: 's3://bkt/batch/x_out.json',
  };
  assert.deepEqual(parseRequest(raw), raw);
});

test('payloads, items_per_job, an item set url with item_count, idempotency_key and plan parse as given', () => {
  const payloads = [{ a: 1 }, [2], 'three'];
  assert.deepEqual(
    parseRequest({
      lambda_function: 'f',
      payloads,
      items_per_job: 2,
      idempotency_key: 'feed-2026_12.01',
      plan: true,
    }),
    { lambda_function: 'f', payloads, items_per_job: 2, idempotency_key: 'feed-2026_12.01', plan: true },
  );
  const set = {
    lambda_function: 'f',
    url: 's3://bkt/batch/f/k/in/',
    item_count: 1000,
    url_out: 's3://bkt/o/',
  };
  assert.deepEqual(parseRequest(set), set);
});

test('fractional vCPUs of Fargate and payloads that are falsy but not null are accepted', () => {
  assert.equal(parseRequest({ lambda_function: 'f', payload: 0, vcpus: 0.25 }).vcpus, 0.25);
  assert.equal(parseRequest({ lambda_function: 'f', payload: false, vcpus: 0.5 }).payload, false);
  assert.equal(parseRequest({ lambda_function: 'f', payload: '', vcpus: 16 }).payload, '');
});

test('queue ARNs, alias and version qualifiers and partial ARNs are valid', () => {
  for (const lambda_function of ['my-task:prod', 'my-task:42', '123456789012:function:my-task', FN]) {
    assert.equal(parseRequest({ lambda_function, url: 's3://bkt/k.json' }).lambda_function, lambda_function);
  }
  const queue = 'arn:aws:batch:us-east-1:123456789012:job-queue/my-queue';
  assert.equal(parseRequest({ lambda_function: 'f', url: 's3://bkt/k', queue }).queue, queue);
});

// Each case: the raw request, the field its message must start with, and a word the message must contain.
const invalid: [string, unknown, string, RegExp][] = [
  ['not an object', 'hello', 'request', /JSON object/],
  ['null', null, 'request', /null/],
  ['an array', [{ lambda_function: 'f' }], 'request', /array/],
  ['an unknown field', { lambda_function: 'f', payload: {}, vcpu: 2 }, 'vcpu', /unknown field/],
  ['no function', { payload: {} }, 'lambda_function', /required/],
  ['function not a string', { lambda_function: 42, payload: {} }, 'lambda_function', /string/],
  ['function with spaces', { lambda_function: 'my task', payload: {} }, 'lambda_function', /not a Lambda/],
  [
    'function ARN of another service',
    { lambda_function: 'arn:aws:s3:::b', payload: {} },
    'lambda_function',
    /not a Lambda/,
  ],
  ['empty function', { lambda_function: '', payload: {} }, 'lambda_function', /empty/],
  [
    'both payload and url',
    { lambda_function: 'f', payload: {}, url: 's3://bkt/k' },
    'payload',
    /not payload and url/,
  ],
  [
    'both url and payloads',
    { lambda_function: 'f', url: 's3://bkt/k', payloads: [{}] },
    'url',
    /not url and payloads/,
  ],
  ['neither payload nor url', { lambda_function: 'f' }, 'payload', /required/],
  ['null payload', { lambda_function: 'f', payload: null }, 'payload', /null/],
  ['an https url', { lambda_function: 'f', url: 'https://b.s3.amazonaws.com/k' }, 'url', /s3:\/\//],
  ['an s3 url without key', { lambda_function: 'f', url: 's3://bucket' }, 'url', /key/],
  ['an s3 url with a bad bucket', { lambda_function: 'f', url: 's3://B_ad/k' }, 'url', /bucket/],
  ['a url that is a number', { lambda_function: 'f', url: 5 }, 'url', /string/],
  [
    'a file url_out',
    { lambda_function: 'f', url: 's3://bkt/k', url_out: 'file:///tmp/o.json' },
    'url_out',
    /s3/,
  ],
  ['an unknown image', { lambda_function: 'f', payload: {}, image: 'python' }, 'image', /lambda, geolambda/],
  ['a bad queue name', { lambda_function: 'f', payload: {}, queue: 'my queue!' }, 'queue', /queue/],
  ['a job name with a dollar', { lambda_function: 'f', payload: {}, name: 'f-$LATEST' }, 'name', /letters/],
  ['a job name starting with -', { lambda_function: 'f', payload: {}, name: '-job' }, 'name', /starting/],
  ['a job name of 129 chars', { lambda_function: 'f', payload: {}, name: 'a'.repeat(129) }, 'name', /1-128/],
  ['zero vcpus', { lambda_function: 'f', payload: {}, vcpus: 0 }, 'vcpus', /0\.25/],
  ['1.5 vcpus', { lambda_function: 'f', payload: {}, vcpus: 1.5 }, 'vcpus', /whole/],
  ['vcpus as a string', { lambda_function: 'f', payload: {}, vcpus: '2' }, 'vcpus', /number/],
  ['memory below 4 MiB', { lambda_function: 'f', payload: {}, memory: 2 }, 'memory', /between 4/],
  ['fractional memory', { lambda_function: 'f', payload: {}, memory: 512.5 }, 'memory', /whole/],
  ['negative gpus', { lambda_function: 'f', payload: {}, gpus: -1 }, 'gpus', /between 0/],
  [
    'timeout under Batch minimum',
    { lambda_function: 'f', payload: {}, timeout: 59 },
    'timeout',
    /between 60/,
  ],
  ['zero attempts', { lambda_function: 'f', payload: {}, attempts: 0 }, 'attempts', /between 1 and 10/],
  ['eleven attempts', { lambda_function: 'f', payload: {}, attempts: 11 }, 'attempts', /between 1 and 10/],
  ['NaN-like timeout', { lambda_function: 'f', payload: {}, timeout: 'soon' }, 'timeout', /whole number/],
  ['payloads not an array', { lambda_function: 'f', payloads: { a: 1 } }, 'payloads', /array/],
  ['payloads empty', { lambda_function: 'f', payloads: [] }, 'payloads', /1 to 10000 events, got 0/],
  [
    'payloads over 10,000',
    { lambda_function: 'f', payloads: Array.from({ length: 10_001 }, () => ({})) },
    'payloads',
    /got 10001/,
  ],
  [
    'a null among payloads',
    { lambda_function: 'f', payloads: [{}, null] },
    'payloads',
    /item 1 must not be null/,
  ],
  [
    'items_per_job 0',
    { lambda_function: 'f', payloads: [{}], items_per_job: 0 },
    'items_per_job',
    /between 1/,
  ],
  [
    'items_per_job 1.5',
    { lambda_function: 'f', payloads: [{}], items_per_job: 1.5 },
    'items_per_job',
    /whole/,
  ],
  [
    'items_per_job over 10,000',
    { lambda_function: 'f', payloads: [{}], items_per_job: 10_001 },
    'items_per_job',
    /10000/,
  ],
  [
    'items_per_job for one payload',
    { lambda_function: 'f', payload: {}, items_per_job: 2 },
    'items_per_job',
    /only with/,
  ],
  [
    'a set url without item_count',
    { lambda_function: 'f', url: 's3://bkt/set/in/' },
    'item_count',
    /required/,
  ],
  [
    'item_count for one url',
    { lambda_function: 'f', url: 's3://bkt/k.json', item_count: 3 },
    'item_count',
    /only with/,
  ],
  ['item_count 0', { lambda_function: 'f', url: 's3://bkt/s/in/', item_count: 0 }, 'item_count', /between 1/],
  [
    'a set url_out without /',
    { lambda_function: 'f', payloads: [{}], url_out: 's3://bkt/o.json' },
    'url_out',
    /end in \//,
  ],
  [
    'a single url_out with /',
    { lambda_function: 'f', payload: {}, url_out: 's3://bkt/out/' },
    'url_out',
    /not end in/,
  ],
  [
    'an idempotency key with /',
    { lambda_function: 'f', payload: {}, idempotency_key: 'a/b' },
    'idempotency_key',
    /letters/,
  ],
  [
    'an idempotency key of 129',
    { lambda_function: 'f', payload: {}, idempotency_key: 'k'.repeat(129) },
    'idempotency_key',
    /1-128/,
  ],
  [
    'an idempotency key starting with .',
    { lambda_function: 'f', payload: {}, idempotency_key: '..' },
    'idempotency_key',
    /not first/,
  ],
  [
    'an idempotency key not a string',
    { lambda_function: 'f', payload: {}, idempotency_key: 7 },
    'idempotency_key',
    /string/,
  ],
  ['plan not a boolean', { lambda_function: 'f', payload: {}, plan: 'yes' }, 'plan', /true or false/],
  [
    'item_indexes for one payload',
    { lambda_function: 'f', url: 's3://bkt/k.json', item_indexes: 's3://bkt/redrive-1.json' },
    'item_indexes',
    /only with an item set url/,
  ],
  [
    'item_indexes with payloads',
    { lambda_function: 'f', payloads: [{}], item_indexes: 's3://bkt/s/in/redrive-1.json' },
    'item_indexes',
    /only with an item set url/,
  ],
  [
    'item_indexes outside the set',
    { ...SET, item_indexes: 's3://bkt/other/redrive-1.json' },
    'item_indexes',
    /under the item set's prefix s3:\/\/bkt\/s\/in\//,
  ],
  [
    'item_indexes deeper than the set',
    { ...SET, item_indexes: 's3://bkt/s/in/x/redrive-1.json' },
    'item_indexes',
    /directly under/,
  ],
  [
    "item_indexes naming an item's event",
    { ...SET, item_indexes: 's3://bkt/s/in/3.json' },
    'item_indexes',
    /names an item of the set/,
  ],
  ['item_indexes not s3', { ...SET, item_indexes: 'file:///tmp/l.json' }, 'item_indexes', /s3:\/\//],
  [
    'redrive_of not a job id',
    { lambda_function: 'f', payload: {}, redrive_of: 'job-1' },
    'redrive_of',
    /Batch job id/,
  ],
  ['redrive_of not a string', { lambda_function: 'f', payload: {}, redrive_of: 7 }, 'redrive_of', /string/],
];

for (const [what, raw, field, detail] of invalid) {
  test(`invalid request (${what}) throws InvalidRequestError naming ${field}`, () => {
    assert.throws(
      () => parseRequest(raw),
      (err: Error) => {
        assert.ok(err instanceof InvalidRequestError, `${err.name}: ${err.message}`);
        assert.equal(err.name, 'InvalidRequestError');
        assert.ok(err.message.startsWith(`${field}: `), err.message);
        assert.match(err.message, detail);
        return true;
      },
    );
  });
}

/** `[[[…{"a": 1}…]]]`, `levels` arrays deep, built without recursion. */
function deep(levels: number): unknown {
  let v: unknown = { a: 1 };
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

test('a 100,000-deep payload is an InvalidRequestError naming payload, not a RangeError', () => {
  assert.throws(() => parseRequest({ lambda_function: 'f', payload: deep(100_000) }), {
    name: 'InvalidRequestError',
    message: `payload: nests deeper than ${MAX_PAYLOAD_DEPTH} levels`,
  });
  // The same body through SQS (JSON.parse takes any depth; JSON.stringify would not).
  const body = `{"lambda_function":"f","payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  assert.throws(() => parseRequestBody(body), { name: 'InvalidRequestError', message: /^payload: nests/ });
  assert.equal(nestsDeeperThan(deep(MAX_PAYLOAD_DEPTH - 1), MAX_PAYLOAD_DEPTH), false);
  assert.equal(nestsDeeperThan(deep(MAX_PAYLOAD_DEPTH), MAX_PAYLOAD_DEPTH), true);
  assert.ok(parseRequest({ lambda_function: 'f', payload: deep(MAX_PAYLOAD_DEPTH - 1) }));
});

test('an SQS body that is not JSON is an InvalidRequestError naming body', () => {
  assert.throws(() => parseRequestBody('{"lambda_function":'), {
    name: 'InvalidRequestError',
    message: /^body: /,
  });
  assert.deepEqual(parseRequestBody('{"lambda_function":"f","url":"s3://bkt/k.json"}'), {
    lambda_function: 'f',
    url: 's3://bkt/k.json',
  });
});
