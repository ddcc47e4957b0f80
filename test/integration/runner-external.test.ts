// A container image function (PackageType Image, as moto keeps it) run the way the dispatcher's two-container job
// runs it: `run --external-runtime --runtime-api 127.0.0.1:<port> <function> <url> <url_out>` beside the function's
// "container" (a process: a stand-in entrypoint starting a runtime client aimed at that address). The runner reads the
// configuration only: no code is downloaded. Without --external-runtime such a function is exit 3, saying how it runs.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateFunctionCommand, GetFunctionCommand } from '@aws-sdk/client-lambda';
import { parseRunRecordJson } from '../../lib/run-record.js';
import { runLambda, withRunnerHarness } from '../faults/support.js';
import { listening, startFunctionContainer } from '../support/function-container.js';
import { withLeasedPort } from '../support/ports.js';
import { ACCOUNT_ID, createRole, getJson, getObject, putObject, REGION } from './harness/fixtures.js';
import type { Harness } from './harness/index.js';

const BUCKET = 'runner-external';
const FN = 'ext-image-task';
const IMAGE = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/ext-image-task:v1`;
const HANDLER = `def handler(event, context):
    return {"got": event, "function": context.function_name, "arn": context.invoked_function_arn}
`;

let h: Harness;
let dir: string;
let taskRoot: string;
withRunnerHarness({ prefix: 'runner-external-', bucket: BUCKET }, async (started) => {
  ({ h, dir } = started);
  // The function image's /var/task.
  taskRoot = join(dir, 'var-task');
  await mkdir(taskRoot);
  await writeFile(join(taskRoot, 'app.py'), HANDLER);
  await h.clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: FN,
      Role: await createRole(h),
      PackageType: 'Image',
      Code: { ImageUri: IMAGE },
      MemorySize: 1024,
      Timeout: 120,
    }),
  );
});

async function runBeside(key: string, event: unknown, flags: string[] = []) {
  await putObject(h, BUCKET, `${key}/in.json`, event);
  return withLeasedPort(async (port) => {
    const address = `127.0.0.1:${port}`;
    let container: ChildProcess | undefined;
    h.front.clear();
    const r = await runLambda({
      h,
      tmp: join(dir, `tmp-${key}`),
      cacheDir: join(dir, `cache-${key}`),
      args: [
        ...flags,
        '--external-runtime',
        '--runtime-api',
        address,
        FN,
        `s3://${BUCKET}/${key}/in.json`,
        `s3://${BUCKET}/${key}/out.json`,
      ],
      onStderr(text) {
        if (!container && text.includes(listening(address)))
          container = startFunctionContainer(address, taskRoot, 'app.handler', {
            AWS_LAMBDA_FUNCTION_NAME: FN,
          });
      },
    });
    container?.kill('SIGKILL');
    return r;
  });
}

test('an Image function runs with --external-runtime beside its container: result on S3, no code downloaded', async () => {
  const r = await runBeside('ok', { tile: 7 });
  assert.equal(r.code, 0, r.stderr);
  const out = (await getJson(h, BUCKET, 'ok/out.json')) as { got: unknown; arn: string };
  assert.deepEqual(out.got, { tile: 7 });
  assert.equal(out.arn, `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${FN}`, 'invoked as the function');
  assert.deepEqual(h.front.downloads(), [], 'no code download');
  assert.equal(h.front.calls('lambda', 'GetFunction').length, 1);
  // Its record names the image and the digest it resolved to, and GetFunction's CodeSha256 (an image's is hex).
  const fn = await h.clients.lambda.send(new GetFunctionCommand({ FunctionName: FN }));
  const rec = parseRunRecordJson(String(await getObject(h, BUCKET, 'ok/out.run.json')));
  assert.equal(rec.status, 'succeeded');
  assert.deepEqual(rec.function, {
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${FN}`,
    version: '$LATEST',
    runtime: null,
    handler: null,
    code_sha256: fn.Configuration?.CodeSha256,
    architecture: 'x86_64',
    image: { uri: IMAGE, digest: String(fn.Code?.ResolvedImageUri?.split('@')[1]) },
  });
  assert.match(String(rec.function.image?.digest), /^sha256:[0-9a-f]{64}$/);
  assert.ok(rec.timings.initialized, 'the external runtime’s first request');
});

test("--assume-function-role does not apply to an external runtime, which has its own container's credentials: a warning, no STS call", async () => {
  const r = await runBeside('assume', { tile: 8 }, ['--assume-function-role']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /--assume-function-role does not apply with --external-runtime/);
  assert.deepEqual(h.front.calls('sts', 'AssumeRole'), []);
  assert.deepEqual(((await getJson(h, BUCKET, 'assume/out.json')) as { got: unknown }).got, { tile: 8 });
});

test('an Image function without --external-runtime is exit 3, naming the image and the two-container job', async () => {
  await putObject(h, BUCKET, 'no-ext/in.json', {});
  const r = await runLambda({
    h,
    tmp: join(dir, 'tmp-no-ext'),
    cacheDir: join(dir, 'cache-no-ext'),
    args: [FN, `s3://${BUCKET}/no-ext/in.json`],
  });
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.lastLine,
    /^FunctionPrepareError: ext-image-task is a container image function \(.*ext-image-task:v1\): it runs in its own image, as the job of two containers the dispatcher submits for it/,
  );
  assert.equal(await getJson(h, BUCKET, 'no-ext/in_out.json'), undefined);
});
