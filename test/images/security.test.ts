// The images as Batch may run them: read-only root filesystem, a non-root user, and `docker stop` (SIGTERM).
// Gap: the public bases are replaced by stand-ins (support.ts); moto is the AWS, reached over host networking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFunction, createLayer, getObject, putObject } from '../integration/harness/fixtures.js';
import type { Harness } from '../integration/harness/index.js';
import { docker } from './docker.js';
import type { ImageSet } from './images.js';
import { containerName, ranOn, runIn, skip, withImagesAndHarness } from './support.js';

const BUCKET = 'image-security';
const TASK = `import helper

def lambda_handler(event, context):
    return {"ok": True, "layer": helper.NAME}
`;

let h: Harness;
let set: ImageSet;
withImagesAndHarness({ bucket: BUCKET }, async (started) => {
  ({ h, set } = started);
  const layer = await createLayer(h, 'sec-layer', { 'python/helper.py': 'NAME = "sec"\n' });
  await createFunction(h, { name: 'sec-task', files: { 'lambda_function.py': TASK }, layers: [layer] });
  await createFunction(h, {
    name: 'sec-sleeper',
    files: {
      'lambda_function.py': 'import time\n\ndef lambda_handler(e, c):\n    time.sleep(120)\n    return e\n',
    },
  });
  await putObject(h, BUCKET, 'in.json', { a: 1 });
});

const image = () => set.get('lambda', 'python3.12');
const run = (args: string[], opts: Parameters<typeof runIn>[2] = {}) =>
  runIn(image(), ['run', ...args], { ...opts, env: { ...h.env, ...opts.env } });

test('--read-only with tmpfs on /tmp and /opt: a function with a layer runs', { skip }, async (t) => {
  t.diagnostic(ranOn(image()));
  const r = await run(['sec-task', `s3://${BUCKET}/in.json`, '-'], {
    readOnly: true,
    tmpfs: ['/tmp', '/opt'],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ok: true, layer: 'sec' });
});

test('--read-only without a writable /opt: a function with layers fails with one clear last line', {
  skip,
}, async (t) => {
  t.diagnostic(ranOn(image()));
  const r = await run(['sec-task', `s3://${BUCKET}/in.json`, '-'], { readOnly: true, tmpfs: ['/tmp'] });
  assert.equal(r.code, 3, r.stderr);
  t.diagnostic(r.lastLine);
  assert.match(r.lastLine, /^\w+Error: .*\/opt.*/);
  assert.match(r.lastLine, /--opt-dir|tmpfs|writable/);
});

test('--read-only with tmpfs on /tmp only: a function without layers runs', { skip }, async (t) => {
  t.diagnostic(ranOn(image()));
  const r = await run(['sec-sleeper', 'data:application/json;base64,e30=', '-'], {
    readOnly: true,
    tmpfs: ['/tmp'],
    env: { RUN_LAMBDA_TIMEOUT: '1' },
  });
  // The sleeper outlives a 1 s deadline: the runner gets as far as the invocation on a read-only root.
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, /served by the image's runtime client/);
});

test('a non-root --user runs a function with a layer on a read-only root', { skip }, async (t) => {
  t.diagnostic(ranOn(image()));
  const r = await run(['sec-task', `s3://${BUCKET}/in.json`, `s3://${BUCKET}/nonroot_out.json`], {
    user: '65534:65534',
    readOnly: true,
    tmpfs: ['/tmp', '/opt'],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(String(await getObject(h, BUCKET, 'nonroot_out.json'))), {
    ok: true,
    layer: 'sec',
  });
  const id = await runIn(image(), ['id', '-u'], { user: '65534:65534' });
  assert.equal(id.stdout.trim(), '65534');
});

test('docker stop gives exit 143, the stop as the last line, and no result', { skip }, async (t) => {
  t.diagnostic(ranOn(image()));
  const name = containerName('stop');
  const running = run(['sec-sleeper', `s3://${BUCKET}/in.json`, `s3://${BUCKET}/stopped_out.json`], { name });
  // Stop once the function is being served (Batch stops a job at any point; this is the interesting one).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const logs = await docker(['logs', name]);
    if (/served by/.test(logs.stderr)) break;
    assert.ok(Date.now() < deadline, `the runner never started the function:\n${logs.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = await docker(['stop', '--time', '10', name]);
  assert.equal(stop.code, 0, stop.stderr);
  const r = await running;
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.lastLine, 'StoppedBySignalError: stopped by SIGTERM');
  assert.equal(await getObject(h, BUCKET, 'stopped_out.json'), undefined);
});
