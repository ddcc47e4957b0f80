// npm test runs the runner's tests twice: on the Node.js running the tests, then on the Node.js the images' runner
// runs on (RUN_LAMBDA_TEST_NODE, the pinned official binary). Here the runner says which one it ran on, and a Node
// function runs on that same one, as in the images.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, runnerNode } from './helpers.js';

test("the runner and a Node function run on this pass's Node.js (RUN_LAMBDA_TEST_NODE, else the tests' own)", async (t) => {
  const expected = spawnSync(runnerNode, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim();
  if (process.env.RUN_LAMBDA_TEST_NODE) assert.notEqual(runnerNode, process.execPath);
  const fn = mkdtempSync(join(tmpdir(), 'runner-node-'));
  try {
    writeFileSync(join(fn, 'index.mjs'), 'export const handler = async () => ({ node: process.version });\n');
    const r = await runCli(['--log-level', 'debug', fn, 'data:,{}', '-']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { node: expected });
    t.diagnostic(`the runner ran on Node.js ${expected} (${runnerNode})`);
  } finally {
    rmSync(fn, { recursive: true, force: true });
  }
});
