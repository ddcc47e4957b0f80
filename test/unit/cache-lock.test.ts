// The code cache's entry lock (runner/aws/cache-lock.ts): taken at once when free or abandoned, waited for while its
// holder lives (whose name is told once), and given up when the run is stopped.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lockOrWait } from '../../runner/aws/cache-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'cache-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const me = `${process.pid}@${hostname()}`;

test('a free lock is taken and holds this process; released, it is gone', async () => {
  const path = join(dir, 'free.lock');
  const got = await lockOrWait(path, { ready: () => false });
  assert.equal(got.kind, 'held');
  assert.equal(readFileSync(path, 'utf8'), me);
  if (got.kind === 'held') await got.lock.release();
  assert.throws(() => readFileSync(path), { code: 'ENOENT' });
});

test("a dead holder's lock is taken over at once, without a word of waiting", async () => {
  const path = join(dir, 'dead.lock');
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('exit', done));
  writeFileSync(path, `${child.pid}@${hostname()}`);
  const told: string[] = [];
  const got = await lockOrWait(path, { ready: () => false, onWait: (h) => told.push(h) });
  assert.equal(got.kind, 'held');
  assert.equal(readFileSync(path, 'utf8'), me);
  assert.deepEqual(told, []);
});

test("a live holder's lock is waited for, its holder named once, until the entry is ready", async () => {
  const path = join(dir, 'live.lock');
  const holder = `1@${hostname()}`; // init: alive for as long as the machine is
  writeFileSync(path, holder);
  const told: string[] = [];
  let looks = 0;
  const got = await lockOrWait(path, { ready: () => ++looks > 4, onWait: (h) => told.push(h) });
  assert.equal(got.kind, 'ready');
  assert.deepEqual(told, [holder]);
  assert.equal(readFileSync(path, 'utf8'), holder, "the holder's lock is left as it was");
});

test('a stop ends the wait: the lock is not taken', async () => {
  const path = join(dir, 'stopped.lock');
  writeFileSync(path, `1@${hostname()}`);
  const stop = new AbortController();
  setTimeout(() => stop.abort('SIGTERM'), 50);
  await assert.rejects(lockOrWait(path, { ready: () => false, signal: stop.signal }));
  assert.equal(readFileSync(path, 'utf8'), `1@${hostname()}`);
});
