import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
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
