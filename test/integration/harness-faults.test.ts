// Self-tests of the harness's fault controls: code download faults and the general request fault injector.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { GetFunctionCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fakeAuth, TEST_CREDENTIALS } from './harness/clients.js';
import { createBucket, createFunction, putObject } from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';
import { buildZip, unsafeZip } from './harness/zip.js';

let h: Harness;
let zip: Buffer;
before(async () => {
  h = await startHarness();
  zip = await buildZip({ 'lambda_function.py': 'def lambda_handler(e, c):\n    return 2\n' });
  await createFunction(h, { name: 'faulty', zip });
  await createBucket(h, 'faults');
  await putObject(h, 'faults', 'obj.bin', Buffer.alloc(64 * 1024, 1));
});
after(async () => {
  h.front.clearFaults();
  await h?.stop();
});

const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
async function codeUrl(): Promise<{ url: string; sha: string }> {
  const fn = await h.frontClients.lambda.send(new GetFunctionCommand({ FunctionName: 'faulty' }));
  return { url: fn.Code?.Location ?? '', sha: fn.Configuration?.CodeSha256 ?? '' };
}
const download = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
};

test('wrong-bytes serves the same length with a different SHA-256 until removed', async () => {
  const fault = h.front.codeFault('faulty', { kind: 'wrong-bytes' });
  const { url, sha } = await codeUrl();
  const bad = await download(url);
  assert.equal(bad.status, 200);
  assert.equal(bad.body.length, zip.length);
  assert.notEqual(sha256b64(bad.body), sha);
  assert.equal(fault.hits, 1);
  fault.remove();
  assert.equal(sha256b64((await download(url)).body), sha);
});

test('expire-once answers 403 Request has expired once; a URL from the next GetFunction works', async () => {
  h.front.codeFault('faulty', { kind: 'expire-once' });
  const first = await codeUrl();
  const expired = await download(first.url);
  assert.equal(expired.status, 403);
  assert.match(expired.body.toString(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  assert.equal((await download(first.url)).status, 403, 'an expired URL stays expired');
  const second = await codeUrl();
  const ok = await download(second.url);
  assert.equal(ok.status, 200);
  assert.equal(sha256b64(ok.body), second.sha);
});

test('replace serves another zip and reports its SHA-256, so only the archive check can refuse it', async () => {
  const evil = unsafeZip('dotdot');
  const fault = h.front.codeFault('faulty', { kind: 'replace', bytes: evil });
  const { url, sha } = await codeUrl();
  assert.equal(sha, sha256b64(evil));
  assert.deepEqual((await download(url)).body, evil);
  fault.remove();
  assert.equal((await codeUrl()).sha, sha256b64(zip));
});

test('an error fault answers 500 InternalError as S3 XML the given number of times', async () => {
  const s3 = new S3Client({
    endpoint: h.endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  const fault = h.front.fault({
    match: (r) => r.operation === 'GetObject',
    times: 1,
    kind: 'error',
    status: 500,
  });
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'faults', Key: 'obj.bin' })), {
    name: 'InternalError',
  });
  const ok = await s3.send(new GetObjectCommand({ Bucket: 'faults', Key: 'obj.bin' }));
  assert.equal((await ok.Body!.transformToByteArray()).length, 64 * 1024);
  assert.equal(fault.hits, 1);
  assert.deepEqual(
    h.front
      .calls('s3', 'GetObject')
      .slice(-2)
      .map((r) => [r.status, r.fault]),
    [
      [500, 'error 500'],
      [200, undefined],
    ],
  );
  s3.destroy();
});

test('a 503 fault is SlowDown XML for S3 (retried by the SDK) and a JSON error for Lambda', async () => {
  h.front.clear();
  const s3 = new S3Client({
    endpoint: h.endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 3,
  });
  const s3Fault = h.front.fault({
    match: (r) => r.operation === 'GetObject',
    times: 2,
    kind: 'error',
    status: 503,
  });
  const res = await s3.send(new GetObjectCommand({ Bucket: 'faults', Key: 'obj.bin' }));
  await res.Body!.transformToByteArray();
  assert.equal(s3Fault.hits, 2);
  assert.equal(h.front.calls('s3', 'GetObject').length, 3);
  h.front.fault({ match: (r) => r.operation === 'GetObject', times: 1, kind: 'error', status: 503 });
  const raw = await fetch(`${h.endpoint}/faults/obj.bin`, { headers: fakeAuth('s3') });
  assert.equal(raw.status, 503);
  assert.match(
    await raw.text(),
    /<Error><Code>SlowDown<\/Code><Message>Please reduce your request rate.<\/Message>/,
  );
  s3.destroy();
  const lambda = new LambdaClient({
    endpoint: h.endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
  const lf = h.front.fault({
    match: (r) => r.service === 'lambda',
    kind: 'error',
    status: 503,
    code: 'ServiceException',
  });
  await assert.rejects(
    lambda.send(new ListFunctionsCommand({})),
    (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'ServiceException');
      assert.equal(err.$metadata?.httpStatusCode, 503);
      return true;
    },
  );
  lf.remove();
  await lambda.send(new ListFunctionsCommand({}));
  lambda.destroy();
});

test('a drop fault sends headers and part of the body, then cuts the connection', async () => {
  const fault = h.front.fault({
    match: (r) => r.operation === 'GetObject',
    times: 1,
    kind: 'drop',
    afterBytes: 1000,
  });
  const res = await fetch(`${h.endpoint}/faults/obj.bin`, { headers: fakeAuth('s3') });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(64 * 1024));
  await assert.rejects(res.arrayBuffer());
  assert.equal(fault.hits, 1);
  const codeDrop = h.front.fault({ match: (r) => r.service === 'code', times: 1, kind: 'drop' });
  const { url } = await codeUrl();
  await assert.rejects(fetch(url).then((r) => r.arrayBuffer()));
  assert.equal(codeDrop.hits, 1);
  assert.equal((await download(url)).status, 200);
});

test('a latency fault delays matching requests only', async () => {
  const fault = h.front.fault({ match: (r) => r.path === '/faults/obj.bin', kind: 'latency', ms: 400 });
  const t = Date.now();
  await (await fetch(`${h.endpoint}/faults/obj.bin`, { headers: fakeAuth('s3') })).arrayBuffer();
  // A lower bound only: a loaded machine can make a request slower, never faster.
  assert.ok(Date.now() - t >= 400, `took ${Date.now() - t} ms`);
  assert.equal(fault.hits, 1);
  await (await fetch(`${h.endpoint}/faults`, { headers: fakeAuth('s3') })).arrayBuffer();
  assert.equal(fault.hits, 1, 'an unmatched request is not delayed');
  fault.remove();
  await (await fetch(`${h.endpoint}/faults/obj.bin`, { headers: fakeAuth('s3') })).arrayBuffer();
  assert.equal(fault.hits, 1, 'a removed fault delays nothing');
});
