// The harness's moto_server: it answers over real HTTP with Batch in no-docker mode, and it is used only once it has
// said it listens on its port, so a port some other server holds is never taken for moto.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { leasePort, type PortLease } from '../support/ports.js';
import { type Moto, startMoto } from './harness/moto.js';

let moto: Moto;
before(async () => {
  moto = await startMoto();
});
after(async () => {
  await moto?.stop();
});

test('moto_server answers S3 over real HTTP and has Batch in no-docker mode', async () => {
  const s3 = new S3Client({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'harness-check' }));
  const { Buckets } = await s3.send(new ListBucketsCommand({}));
  assert.deepEqual(
    Buckets?.map((b) => b.Name),
    ['harness-check'],
  );
  const cfg = (await fetch(`${moto.endpoint}/moto-api/config`).then((r) => r.json())) as {
    batch: { use_docker: boolean };
  };
  assert.equal(cfg.batch.use_docker, false);
});

test('a port another server holds is not taken for moto: it is started again on the next one', async () => {
  // What took the port in the flake: another test's Runtime API server, which answers anything else with a 404.
  const taken = await leasePort();
  const other = createServer((req, res) => {
    res.writeHead(404).end(`${req.method} ${req.url} is not a Runtime API call`);
  });
  other.listen(taken.port, '127.0.0.1');
  await once(other, 'listening');
  const given: PortLease[] = [];
  const lease = async () => {
    const next = given.length === 0 ? taken : await leasePort();
    given.push(next);
    return next;
  };
  let second: Moto | undefined;
  try {
    second = await startMoto(lease);
    assert.equal(given.length, 2, 'a second port was leased');
    assert.equal(second.port, given[1]?.port);
    assert.notEqual(second.port, taken.port);
    const cfg = (await fetch(`${second.endpoint}/moto-api/config`).then((r) => r.json())) as {
      batch: { use_docker: boolean };
    };
    assert.equal(cfg.batch.use_docker, false);
  } finally {
    await second?.stop();
    await new Promise((r) => other.close(r));
    await taken.release();
  }
});
