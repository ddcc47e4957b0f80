// The S3 lease (lib/s3-lease.ts) that the idempotency records and the registration locks both are, against moto's
// S3 through the recording front: moto 5.2.1 honours If-None-Match: * and If-Match on PutObject (412 when the
// condition fails), so nothing here fills a gap in the harness.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type LeaseBody, leaseAt, leaseExpired } from '../../lib/s3-lease.js';
import { createBucket, getJson } from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';

const BUCKET = 'leases';
let h: Harness;
before(async () => {
  h = await startHarness();
  await createBucket(h, BUCKET);
});
after(() => h?.stop());

const lease = (key: string, bucket = BUCKET) =>
  leaseAt<LeaseBody & { answer?: unknown }>(h.frontClients.s3, { bucket, key }, 'test lease');
const body = (owner: string, expires_at = Date.now() + 60_000, extra = {}): LeaseBody => ({
  owner,
  expires_at,
  ...extra,
});

test('a lease is claimed once: the second claimer is told another holds it, and what it holds is read back', async () => {
  const p = lease('batch/f/one.dispatch.json');
  assert.equal(await p.claim(body('a')), true);
  assert.equal(await p.claim(body('b')), false);
  const seen = await p.read();
  assert.equal(seen?.body.owner, 'a');
  assert.ok(seen?.etag);
  const statuses = h.front
    .calls('s3', 'PutObject')
    .filter((r) => r.path.endsWith('one.dispatch.json'))
    .map((r) => r.status);
  assert.deepEqual(statuses, [200, 412]);
});

test('a takeover holds only over the lease as it was read: a stale ETag loses to the one who changed it', async () => {
  const p = lease('batch/f/two.jobdef.json');
  await p.claim(body('a', 0));
  const seen = (await p.read())!;
  assert.ok(leaseExpired(seen.body, Date.now()));
  assert.equal(await p.takeOver(body('b'), seen.etag), true);
  assert.equal(await p.takeOver(body('c'), seen.etag), false, 'the ETag read before b took it over');
  assert.equal((await p.read())?.body.owner, 'b');
  assert.ok(!leaseExpired((await p.read())!.body, Date.now()));
});

test('the holder writes what it did into its lease; released, the lease can be claimed afresh', async () => {
  const p = lease('batch/f/three.dispatch.json');
  await p.claim(body('a'));
  await p.update(body('a', 1, { answer: { job_id: 'j-1' } }));
  assert.deepEqual(await getJson(h, BUCKET, 'batch/f/three.dispatch.json'), {
    owner: 'a',
    expires_at: 1,
    answer: { job_id: 'j-1' },
  });
  await p.release();
  assert.equal(await p.read(), undefined);
  assert.equal(await p.claim(body('b')), true);
});

test('a lease that is not JSON, or a bucket that refuses, is a PayloadStoreError naming the object', async () => {
  await h.clients.s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'batch/f/four.dispatch.json', Body: 'secret{' }),
  );
  await assert.rejects(lease('batch/f/four.dispatch.json').read(), {
    name: 'PayloadStoreError',
    message: /^the test lease s3:\/\/leases\/batch\/f\/four\.dispatch\.json is not JSON \(7 characters/,
  });
  await assert.rejects(lease('k.json', 'no-such-bucket-here').claim(body('a')), {
    name: 'PayloadStoreError',
    message: /could not write s3:\/\/no-such-bucket-here\/k\.json/,
  });
});
