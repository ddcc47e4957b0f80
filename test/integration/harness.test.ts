// Self-tests of the integration harness: passthrough, recording and the Code.Location rewrite.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  createBucket,
  createFunction,
  createLayer,
  createRole,
  getObject,
  putObject,
} from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';
import { buildZip } from './harness/zip.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

test('S3 calls through the front reach moto and are recorded with service and operation', async () => {
  await createBucket(h, 'pass-bucket');
  h.front.clear();
  const body = Buffer.alloc(300_000, 7);
  await h.frontClients.s3.send(
    new PutObjectCommand({ Bucket: 'pass-bucket', Key: 'dir/a b.bin', Body: body }),
  );
  const got = await h.frontClients.s3.send(
    new GetObjectCommand({ Bucket: 'pass-bucket', Key: 'dir/a b.bin' }),
  );
  assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
  assert.deepEqual(await getObject(h, 'pass-bucket', 'dir/a b.bin'), body);
  const ops = h.front.calls('s3').map((r) => `${r.operation} ${r.path} ${r.status}`);
  assert.deepEqual(ops, ['PutObject /pass-bucket/dir/a b.bin 200', 'GetObject /pass-bucket/dir/a b.bin 200']);
});

test('GetFunction through the front gives a Code.Location serving exactly the bytes of CodeSha256', async () => {
  const zip = await buildZip({ 'lambda_function.py': 'def lambda_handler(e, c):\n    return 1\n' });
  await createFunction(h, { name: 'rewrite-fn', zip });
  h.front.clear();
  const fn = await h.frontClients.lambda.send(new GetFunctionCommand({ FunctionName: 'rewrite-fn' }));
  assert.equal(fn.Configuration?.CodeSha256, sha256b64(zip));
  const location = fn.Code?.Location ?? '';
  assert.match(location, new RegExp(`^${h.endpoint}/code/[0-9a-f]{64}\\?.*X-Amz-Signature=`));
  const res = await fetch(location);
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(sha256b64(bytes), fn.Configuration?.CodeSha256);
  assert.deepEqual(
    h.front.requests.map((r) => `${r.service} ${r.operation}`),
    ['lambda GetFunction', 'code Download'],
  );
  assert.deepEqual(h.front.downloads()[0]?.code, {
    sha256: createHash('sha256').update(zip).digest('hex'),
    target: 'rewrite-fn',
    bytes: zip.length,
  });
});

test('GetLayerVersion through the front gives a Content.Location serving the layer zip', async () => {
  const arn = await createLayer(h, 'rewrite-layer', { 'python/mod.py': 'X = 1\n' });
  const version = Number(arn.split(':').pop());
  const out = await h.frontClients.lambda.send(
    new GetLayerVersionCommand({ LayerName: 'rewrite-layer', VersionNumber: version }),
  );
  const res = await fetch(out.Content?.Location ?? '');
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(sha256b64(bytes), out.Content?.CodeSha256);
  assert.equal(bytes.length, out.Content?.CodeSize);
});

test('code uploaded through the front as ZipFile is kept and served without registration', async () => {
  const zip = await buildZip({ 'index.mjs': `export const handler = async () => ${Date.now()};\n` });
  await createFunction(
    { ...h, clients: h.frontClients, front: { ...h.front, registerCode: () => '' } },
    {
      name: 'through-front',
      runtime: 'nodejs20.x',
      handler: 'index.handler',
      zip,
    },
  );
  const fn = await h.frontClients.lambda.send(new GetFunctionCommand({ FunctionName: 'through-front' }));
  const bytes = Buffer.from(await (await fetch(fn.Code?.Location ?? '')).arrayBuffer());
  assert.deepEqual(bytes, zip);
});

test('code created through the front from an S3 object is read from moto and served', async () => {
  const zip = await buildZip({ 'lambda_function.py': '# from s3\n' });
  await createBucket(h, 'code-src');
  await putObject(h, 'code-src', 'fn/code.zip', zip);
  const role = await createRole(h);
  await h.frontClients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'from-s3',
      Runtime: 'python3.12',
      Handler: 'lambda_function.lambda_handler',
      Role: role,
      Code: { S3Bucket: 'code-src', S3Key: 'fn/code.zip' },
    }),
  );
  const fn = await h.frontClients.lambda.send(new GetFunctionCommand({ FunctionName: 'from-s3' }));
  const res = await fetch(fn.Code?.Location ?? '');
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), zip);
});

test('GetLayerVersionByArn through the front answers like GetLayerVersion (moto alone answers ListLayers)', async () => {
  const arn = await createLayer(h, 'by-arn-layer', { 'python/by_arn.py': 'Y = 2\n' });
  await createLayer(h, 'by-arn-layer', { 'python/by_arn.py': 'Y = 3\n' });
  const out = await h.frontClients.lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
  assert.equal(out.LayerVersionArn, arn);
  assert.equal(out.Version, 1);
  const bytes = Buffer.from(await (await fetch(out.Content?.Location ?? '')).arrayBuffer());
  assert.equal(sha256b64(bytes), out.Content?.CodeSha256);
  assert.equal(h.front.calls('lambda', 'GetLayerVersionByArn').length, 1);
});
