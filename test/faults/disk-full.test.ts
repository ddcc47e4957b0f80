import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createFunction, getJson, getObject, putObject } from '../integration/harness/fixtures.js';
import type { Harness } from '../integration/harness/index.js';
import { listTree, runLambda, startRunnerHarness, stopRunnerHarness } from './support.js';

const BUCKET = 'faults-disk';
const SMALL = 'def lambda_handler(event, context):\n    return {"n": len(event.get("blob", ""))}\n';
const BIG_RESULT = 'def lambda_handler(event, context):\n    return {"blob": "r" * 3_000_000}\n';

/** A 1 MB tmpfs: the disk that fills up. Mounting needs root; without it the tests say why they skip. */
let full: string | undefined;
let skipReason: string | undefined;
let h: Harness;
let dir: string;

before(async () => {
  ({ h, dir } = await startRunnerHarness('faults-disk-', BUCKET));
  const mnt = join(dir, 'full');
  await mkdir(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status === 0) full = mnt;
  else
    skipReason = `cannot mount a small tmpfs here (${(m.stderr || m.error?.message || '').trim()}); needs root`;
});
after(async () => {
  if (full) spawnSync('umount', [full]);
  await stopRunnerHarness(h, dir);
});

let n = 0;
/** A fresh folder on the full disk (emptied between tests by removing the previous one). */
async function onFullDisk(): Promise<string> {
  const d = join(full ?? dir, `run-${++n}`);
  await rm(join(full ?? dir, `run-${n - 1}`), { recursive: true, force: true });
  await mkdir(d, { recursive: true });
  return d;
}

test('a payload larger than the free space of TMPDIR: exit 4 naming the full disk, the input untouched', async (t) => {
  if (skipReason) return t.skip(skipReason); // only where a tmpfs cannot be mounted (not root); the reason is printed
  await createFunction(h, { name: 'fd-small', files: { 'lambda_function.py': SMALL } });
  const input = { blob: 'b'.repeat(1_500_000) };
  await putObject(h, BUCKET, 'payload/in.json', input);
  const tmp = await onFullDisk();
  const r = await runLambda({
    h,
    tmp,
    cacheDir: join(dir, 'cache-1'),
    args: ['fd-small', `s3://${BUCKET}/payload/in.json`],
  });
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.lastLine,
    /^PayloadIOError: could not read the payload s3:\/\/faults-disk\/payload\/in\.json: .*(ENOSPC|no space)/,
  );
  assert.deepEqual(await getJson(h, BUCKET, 'payload/in.json'), input);
});

test('code whose zip does not fit the cache disk: exit 3 naming the full disk, nothing left in the cache', async (t) => {
  if (skipReason) return t.skip(skipReason); // only where a tmpfs cannot be mounted (not root); the reason is printed
  await createFunction(h, {
    name: 'fd-bigzip',
    files: { 'lambda_function.py': SMALL, 'noise.bin': randomBytes(1_500_000) },
  });
  await putObject(h, BUCKET, 'bigzip/in.json', { z: 1 });
  const cacheDir = await onFullDisk();
  const r = await runLambda({
    h,
    tmp: join(dir, 'tmp-2'),
    cacheDir,
    args: ['fd-bigzip', `s3://${BUCKET}/bigzip/in.json`],
  });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.lastLine, /^FunctionPrepareError: .*code of fd-bigzip.*(ENOSPC|no space)/);
  assert.deepEqual(await getJson(h, BUCKET, 'bigzip/in.json'), { z: 1 });
  assert.deepEqual(
    (await listTree(cacheDir)).filter((f) => !f.startsWith('clients')),
    [],
  );
});

test('code that unzips to more than the cache disk holds: exit 3 naming the full disk, no half entry', async (t) => {
  if (skipReason) return t.skip(skipReason); // only where a tmpfs cannot be mounted (not root); the reason is printed
  await createFunction(h, {
    name: 'fd-unzip',
    files: { 'lambda_function.py': SMALL, 'zeros.bin': Buffer.alloc(3_000_000) },
  });
  await putObject(h, BUCKET, 'unzip/in.json', { u: 1 });
  const cacheDir = await onFullDisk();
  const r = await runLambda({
    h,
    tmp: join(dir, 'tmp-3'),
    cacheDir,
    args: ['fd-unzip', `s3://${BUCKET}/unzip/in.json`],
  });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.lastLine, /^FunctionPrepareError: .*fd-unzip.*(ENOSPC|no space)/);
  assert.deepEqual(
    (await listTree(cacheDir)).filter((f) => !f.startsWith('clients')),
    [],
  );
});

test('a result larger than the free space of TMPDIR: exit 4 naming the full disk, nothing written', async (t) => {
  if (skipReason) return t.skip(skipReason); // only where a tmpfs cannot be mounted (not root); the reason is printed
  await createFunction(h, { name: 'fd-bigresult', files: { 'lambda_function.py': BIG_RESULT } });
  await putObject(h, BUCKET, 'result/in.json', { r: 1 });
  const tmp = await onFullDisk();
  const r = await runLambda({
    h,
    tmp,
    cacheDir: join(dir, 'cache-4'),
    args: ['fd-bigresult', `s3://${BUCKET}/result/in.json`, `s3://${BUCKET}/result/out.json`],
  });
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.lastLine, /^PayloadIOError: .*(ENOSPC|no space)/);
  assert.equal(await getObject(h, BUCKET, 'result/out.json'), undefined);
  assert.deepEqual(await getJson(h, BUCKET, 'result/in.json'), { r: 1 });
});
