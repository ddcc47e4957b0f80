import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { downloadS3Payload, MULTIPART_THRESHOLD, uploadS3Result } from '../../runner/aws/s3-payload.js';
import { exitCodeOf } from '../../runner/errors.js';
import { createLogger } from '../../runner/log.js';
import { createBucket, getObject, putObject } from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';

let h: Harness;
let dir: string;
before(async () => {
  h = await startHarness();
  dir = await mkdtemp(join(tmpdir(), 'runner-aws-s3-'));
  await createBucket(h, 'payloads');
});
after(async () => {
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
});

const opts = () => ({ log: createLogger('warn', () => {}), env: h.env });

test('a payload object is streamed to a file', async () => {
  await putObject(h, 'payloads', 'in/a.json', { hello: 'world' });
  const dest = join(dir, 'a.json');
  const { bytes } = await downloadS3Payload('s3://payloads/in/a.json', dest, opts());
  assert.equal(bytes, 17);
  assert.deepEqual(JSON.parse(await readFile(dest, 'utf8')), { hello: 'world' });
});

test('an object of at most inMemoryUpTo bytes is kept in memory, hashed; a larger one goes to the file', async () => {
  await putObject(h, 'payloads', 'in/small.json', { hello: 'world' });
  const dest = join(dir, 'small.json');
  const small = await downloadS3Payload('s3://payloads/in/small.json', dest, { ...opts(), inMemoryUpTo: 17 });
  assert.equal(small.bytes, 17);
  assert.deepEqual(JSON.parse(String(small.body)), { hello: 'world' });
  assert.equal(small.sha256, createHash('sha256').update('{"hello":"world"}').digest('hex'));
  assert.equal(existsSync(dest), false, 'no file for a payload kept in memory');
  const large = await downloadS3Payload('s3://payloads/in/small.json', dest, { ...opts(), inMemoryUpTo: 16 });
  assert.equal(large.body, undefined);
  assert.equal(large.sha256, small.sha256);
  assert.deepEqual(JSON.parse(await readFile(dest, 'utf8')), { hello: 'world' });
});

test('a body cut on its way to memory is read again, whole', async () => {
  await putObject(h, 'payloads', 'in/cut.json', { items: ['a'.repeat(4000)] });
  const cut = h.front.fault({
    match: (r) => r.operation === 'GetObject',
    times: 1,
    kind: 'drop',
    afterBytes: 100,
  });
  try {
    const got = await downloadS3Payload('s3://payloads/in/cut.json', join(dir, 'cut.json'), {
      ...opts(),
      inMemoryUpTo: 1 << 20,
    });
    assert.equal(cut.hits, 1);
    assert.deepEqual(JSON.parse(String(got.body)), { items: ['a'.repeat(4000)] });
    assert.equal(got.bytes, got.body?.length);
  } finally {
    cut.remove();
  }
});

test('a missing key fails with exit 2 naming the bucket and key, and leaves no file', async () => {
  const dest = join(dir, 'missing.json');
  await assert.rejects(downloadS3Payload('s3://payloads/in/none.json', dest, opts()), (err: Error) => {
    assert.equal(err.name, 'PayloadAccessError');
    assert.equal(exitCodeOf(err), 2);
    assert.match(err.message, /s3:\/\/payloads\/in\/none\.json: the object does not exist/);
    return true;
  });
  assert.equal(existsSync(dest), false);
});

test('a missing bucket fails with exit 2 saying so', async () => {
  await assert.rejects(
    downloadS3Payload('s3://no-such-bucket/k.json', join(dir, 'x'), opts()),
    (err: Error) => {
      assert.equal(exitCodeOf(err), 2);
      assert.match(err.message, /s3:\/\/no-such-bucket\/k\.json: the bucket does not exist/);
      return true;
    },
  );
});

test('a denied read fails with exit 2 naming the permission', async () => {
  await putObject(h, 'payloads', 'in/denied.json', {});
  const f = h.front.fault({
    match: (r) => r.operation === 'GetObject',
    kind: 'error',
    status: 403,
    code: 'AccessDenied',
  });
  try {
    await assert.rejects(
      downloadS3Payload('s3://payloads/in/denied.json', join(dir, 'd'), opts()),
      (err: Error) => {
        assert.equal(exitCodeOf(err), 2);
        assert.match(err.message, /access denied.*s3:GetObject/);
        return true;
      },
    );
  } finally {
    f.remove();
  }
});

test('a small result is written with one PutObject', async () => {
  const src = join(dir, 'out.json');
  await writeFile(src, '{"ok":true}');
  h.front.clear();
  await uploadS3Result('s3://payloads/out/small_out.json', src, opts());
  assert.equal((await getObject(h, 'payloads', 'out/small_out.json'))?.toString(), '{"ok":true}');
  assert.equal(h.front.calls('s3', 'PutObject').length, 1);
  assert.equal(h.front.calls('s3', 'CreateMultipartUpload').length, 0);
});

test('a large result is written as a multipart upload', async () => {
  const src = join(dir, 'big.json');
  const big = Buffer.alloc(MULTIPART_THRESHOLD + 1024 * 1024, 0x20);
  big.write('{"a":1}', 0);
  await writeFile(src, big);
  h.front.clear();
  await uploadS3Result('s3://payloads/out/big_out.json', src, opts());
  const back = await getObject(h, 'payloads', 'out/big_out.json');
  assert.equal(back?.length, big.length);
  assert.ok(back?.equals(big));
  assert.equal(h.front.calls('s3', 'CreateMultipartUpload').length, 1);
  assert.equal(h.front.calls('s3', 'UploadPart').length, 2);
});

test('a transient 503 on PutObject is retried by the SDK', async () => {
  const src = join(dir, 'retry.json');
  await writeFile(src, '{"r":1}');
  const f = h.front.fault({
    match: (r) => r.operation === 'PutObject',
    kind: 'error',
    status: 503,
    times: 1,
  });
  await uploadS3Result('s3://payloads/out/retry_out.json', src, opts());
  assert.equal(f.hits, 1);
  assert.equal((await getObject(h, 'payloads', 'out/retry_out.json'))?.toString(), '{"r":1}');
});

test('a write to a missing bucket fails with exit 2 naming it', async () => {
  const src = join(dir, 'w.json');
  await writeFile(src, '{}');
  await assert.rejects(uploadS3Result('s3://no-such-bucket/out.json', src, opts()), (err: Error) => {
    assert.equal(exitCodeOf(err), 2);
    assert.match(
      err.message,
      /write the result to s3:\/\/no-such-bucket\/out\.json: the bucket does not exist/,
    );
    return true;
  });
});

/** The CRC-32 header S3 checks a PutObject against (moto does not check it: the test must). */
function crc32Header(bytes: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(bytes) >>> 0);
  return b.toString('base64');
}

test('the result PutObject carries the CRC-32 of exactly the bytes stored (computed from the file when not given)', async () => {
  const src = join(dir, 'crc.json');
  const body = Buffer.from(JSON.stringify({ crc: 'é'.repeat(5000), n: [1, 2, 3] }));
  await writeFile(src, body);
  h.front.clear();
  await uploadS3Result('s3://payloads/out/crc_out.json', src, opts());
  const [put] = h.front.calls('s3', 'PutObject');
  const stored = await getObject(h, 'payloads', 'out/crc_out.json');
  assert.ok(stored?.equals(body));
  assert.equal(put?.headers['x-amz-checksum-crc32'], crc32Header(body));
});

test('a result kept in memory is written from there with its CRC-32; there is no file to read', async () => {
  const body = Buffer.from(JSON.stringify({ kept: 'é'.repeat(100) }));
  h.front.clear();
  await uploadS3Result('s3://payloads/out/kept_out.json', join(dir, 'never-written.json'), {
    ...opts(),
    body,
  });
  const [put] = h.front.calls('s3', 'PutObject');
  assert.ok((await getObject(h, 'payloads', 'out/kept_out.json'))?.equals(body));
  assert.equal(put?.headers['x-amz-checksum-crc32'], crc32Header(body));
  assert.equal(h.front.calls('s3', 'PutObject').length, 1);
});

test('a CRC-32 given by the caller is the one sent', async () => {
  const src = join(dir, 'crc-given.json');
  const body = Buffer.from('{"given":true}');
  await writeFile(src, body);
  h.front.clear();
  await uploadS3Result('s3://payloads/out/crc_given.json', src, { ...opts(), crc32: crc32(body) });
  assert.equal(h.front.calls('s3', 'PutObject')[0]?.headers['x-amz-checksum-crc32'], crc32Header(body));
});
