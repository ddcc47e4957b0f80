import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import {
  createFunction,
  createLayer,
  getJson,
  getObject,
  putObject,
} from '../integration/harness/fixtures.js';
import type { Harness, RecordedRequest } from '../integration/harness/index.js';
import { cacheLeftovers, listTree, runLambda, waitForRequest, withRunnerHarness } from './support.js';

const BUCKET = 'faults-cache';
const HANDLER =
  'import dep\n\ndef lambda_handler(event, context):\n    return {"echo": event, "dep": dep.VALUE}\n';

let h: Harness;
let dir: string;
withRunnerHarness({ prefix: 'faults-cache-', bucket: BUCKET }, (started) => {
  ({ h, dir } = started);
});

const codeOf = (target: string) => (r: RecordedRequest) => r.service === 'code' && r.code?.target === target;
const entries = async (cacheDir: string, kind: 'code' | 'layer') =>
  existsSync(cacheDir)
    ? (await readdir(cacheDir)).filter((f) => f.startsWith(`${kind}-`) && !f.endsWith('.manifest'))
    : [];

test('a layer download cut mid-stream on every try leaves no half entry, temp zip or lock; the next run succeeds', async () => {
  const layer = await createLayer(h, 'fc-cut-layer', { 'python/dep.py': `VALUE = "${'x'.repeat(4000)}"\n` });
  await createFunction(h, { name: 'fc-cut', files: { 'lambda_function.py': HANDLER }, layers: [layer] });
  await putObject(h, BUCKET, 'cut/in.json', { c: 1 });
  const cacheDir = join(dir, 'cache-cut');
  h.front.clear();
  const cut = h.front.fault({ match: codeOf('fc-cut-layer:1'), kind: 'drop' });
  const failed = await runLambda({
    h,
    tmp: join(dir, 'tmp-cut-1'),
    cacheDir,
    args: ['fc-cut', `s3://${BUCKET}/cut/in.json`],
  });
  cut.remove();
  assert.equal(failed.code, 3, failed.stderr);
  assert.match(failed.lastLine, /^FunctionPrepareError: could not download the layer fc-cut-layer:1: /);
  assert.equal(cut.hits, 3, 'each of the three tries was cut');
  assert.deepEqual(await entries(cacheDir, 'layer'), []);
  assert.deepEqual(await cacheLeftovers(cacheDir), []);
  assert.deepEqual(await getJson(h, BUCKET, 'cut/in.json'), { c: 1 });
  assert.equal(await getObject(h, BUCKET, 'cut/in_out.json'), undefined);

  const ok = await runLambda({
    h,
    tmp: join(dir, 'tmp-cut-2'),
    cacheDir,
    args: ['fc-cut', `s3://${BUCKET}/cut/in.json`],
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(((await getJson(h, BUCKET, 'cut/in_out.json')) as { dep: string }).dep.length, 4000);
  assert.equal((await entries(cacheDir, 'layer')).length, 1);
  assert.deepEqual(await cacheLeftovers(cacheDir), []);
});

test('ten runners started at once on a new version share one download and all succeed', async () => {
  await createFunction(h, {
    name: 'fc-ten',
    files: { 'lambda_function.py': HANDLER, 'dep.py': 'VALUE = 10\n' },
  });
  await putObject(h, BUCKET, 'ten/in.json', { t: 1 });
  const cacheDir = join(dir, 'cache-ten');
  h.front.clear();
  // A slow download, so that every runner arrives while the first is still fetching.
  const slow = h.front.fault({ match: codeOf('fc-ten'), kind: 'latency', ms: 1500 });
  const runs = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      runLambda({
        h,
        tmp: join(dir, `tmp-ten-${i}`),
        cacheDir,
        args: ['fc-ten', `s3://${BUCKET}/ten/in.json`, `s3://${BUCKET}/ten/out-${i}.json`],
      }),
    ),
  );
  slow.remove();
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  assert.equal(h.front.downloads().length, 1);
  assert.ok(
    runs.some((r) => /waiting for \d+@/.test(r.stderr)),
    'some runner waited for the download',
  );
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(await getJson(h, BUCKET, `ten/out-${i}.json`), { echo: { t: 1 }, dep: 10 });
  }
  assert.equal((await entries(cacheDir, 'code')).length, 1);
  assert.deepEqual(await cacheLeftovers(cacheDir), []);
});

test('a runner killed with SIGKILL while it holds the download lock: the next run takes the lock over and succeeds', async () => {
  await createFunction(h, {
    name: 'fc-stale',
    files: { 'lambda_function.py': HANDLER, 'dep.py': 'VALUE = 1\n' },
  });
  await putObject(h, BUCKET, 'stale/in.json', { s: 1 });
  const cacheDir = join(dir, 'cache-stale');
  h.front.clear();
  // A stalled download: the runner is killed while it holds the lock.
  const stall = h.front.fault({ match: codeOf('fc-stale'), times: 1, kind: 'latency', ms: 3000 });
  let child: ChildProcess | undefined;
  const killed = runLambda({
    h,
    tmp: join(dir, 'tmp-stale-1'),
    cacheDir,
    args: ['fc-stale', `s3://${BUCKET}/stale/in.json`],
    onSpawn: (c) => {
      child = c;
    },
  });
  await waitForRequest(h, codeOf('fc-stale'));
  const locks = (await readdir(cacheDir)).filter((f) => f.endsWith('.lock'));
  assert.equal(locks.length, 1, 'the downloading runner holds a lock');
  child?.kill('SIGKILL');
  assert.equal((await killed).signal, 'SIGKILL');
  stall.remove();
  const ok = await runLambda({
    h,
    tmp: join(dir, 'tmp-stale-2'),
    cacheDir,
    args: ['fc-stale', `s3://${BUCKET}/stale/in.json`],
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'stale/in_out.json'), { echo: { s: 1 }, dep: 1 });
  assert.deepEqual(await cacheLeftovers(cacheDir), []);
});

test('leftovers of a dead runner (lock with a dead pid, temp zip, half-extracted folder) are cleared by the next run', async () => {
  await createFunction(h, {
    name: 'fc-left',
    files: { 'lambda_function.py': HANDLER, 'dep.py': 'VALUE = 2\n' },
  });
  await putObject(h, BUCKET, 'left/in.json', { l: 1 });
  const cacheDir = join(dir, 'cache-left');
  await mkdir(cacheDir, { recursive: true });
  const config = await h.clients.lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: 'fc-left' }),
  );
  const sha = config.CodeSha256 ?? '';
  const name = `code-${Buffer.from(sha, 'base64').toString('hex')}`;
  const deadPid = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
  await writeFile(join(cacheDir, `.${name}.lock`), `${deadPid}@${hostname()}`);
  await writeFile(join(cacheDir, `.${name}.${deadPid}-abcd.zip`), 'PK partial');
  await mkdir(join(cacheDir, `.${name}.tmp-0123456789ab`, 'sub'), { recursive: true });
  const r = await runLambda({
    h,
    tmp: join(dir, 'tmp-left'),
    cacheDir,
    args: ['fc-left', `s3://${BUCKET}/left/in.json`],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'left/in_out.json'), { echo: { l: 1 }, dep: 2 });
  assert.deepEqual(await cacheLeftovers(cacheDir), []);
  assert.deepEqual(await listTree(join(dir, 'tmp-left')), []);
});

test('a handler that appends to its own module does not change what the next run of that version executes', async () => {
  await createFunction(h, {
    name: 'fc-selfmod',
    files: {
      'lambda_function.py':
        'VALUE = "original"\n\ndef lambda_handler(event, context):\n    with open(__file__, "a") as f:\n        f.write(\'\\nVALUE = "tampered"\\n\')\n    return {"value": VALUE}\n',
    },
  });
  await putObject(h, BUCKET, 'selfmod/in.json', {});
  const cacheDir = join(dir, 'cache-selfmod');
  const runOnce = (i: number) =>
    runLambda({
      h,
      tmp: join(dir, `tmp-selfmod-${i}`),
      cacheDir,
      args: ['fc-selfmod', `s3://${BUCKET}/selfmod/in.json`, `s3://${BUCKET}/selfmod/out-${i}.json`],
    });
  const first = await runOnce(1);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'selfmod/out-1.json'), { value: 'original' });
  h.front.clear();
  const second = await runOnce(2);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'selfmod/out-2.json'), { value: 'original' });
  assert.match(
    second.stderr,
    /the cached code of fc-selfmod is not what was extracted \(lambda_function\.py was changed/,
  );
  assert.equal(h.front.downloads().length, 1, 'extracted again from a fresh download');
  assert.deepEqual(await cacheLeftovers(cacheDir), []);
});

test('an ordinary Python function leaves its cache entry intact: the next run uses it as it is (no bytecode in the task root)', async () => {
  await createFunction(h, {
    name: 'fc-intact',
    files: { 'lambda_function.py': HANDLER, 'dep.py': 'VALUE = 5\n' },
  });
  await putObject(h, BUCKET, 'intact/in.json', { k: 1 });
  const cacheDir = join(dir, 'cache-intact');
  for (const i of [1, 2]) {
    h.front.clear();
    const r = await runLambda({
      h,
      tmp: join(dir, `tmp-intact-${i}`),
      cacheDir,
      args: ['fc-intact', `s3://${BUCKET}/intact/in.json`, `s3://${BUCKET}/intact/out-${i}.json`],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /not what was extracted/);
    assert.equal(h.front.downloads().length, i === 1 ? 1 : 0);
  }
  const entry = (await entries(cacheDir, 'code'))[0] as string;
  assert.equal(existsSync(join(cacheDir, entry, '__pycache__')), false);
});
