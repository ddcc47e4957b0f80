import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { killMarked } from '../../runner/runtime/leftovers.js';

test('killMarked ends exactly the processes whose environment holds the mark, in any session', async () => {
  const mark = randomUUID();
  const marked = spawn('setsid', ['sleep', '60'], { env: { ...process.env, RUN_LAMBDA_RUN_ID: mark } });
  const other = spawn('sleep', ['60'], { env: { ...process.env, RUN_LAMBDA_RUN_ID: `${mark}-not` } });
  await Promise.all([marked, other].map((c) => new Promise((r) => c.once('spawn', r))));
  try {
    const gone = new Promise((r) => marked.once('exit', (_c, s) => r(s)));
    assert.deepEqual(killMarked('RUN_LAMBDA_RUN_ID', mark), [marked.pid]);
    assert.equal(await gone, 'SIGKILL');
    assert.equal(other.exitCode, null, 'a process with another mark keeps running');
  } finally {
    marked.kill('SIGKILL');
    other.kill('SIGKILL');
  }
});

test('killMarked on a system without /proc does nothing', () => {
  assert.deepEqual(killMarked('RUN_LAMBDA_RUN_ID', 'x', '/no/such/proc'), []);
});
