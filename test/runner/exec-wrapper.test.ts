// AWS_LAMBDA_EXEC_WRAPPER ("Wrapper scripts", Modifying the runtime environment): the runtime starts through the
// wrapper, which gets the interpreter and its arguments, under the runner's Python and Node.js clients and under an
// official client (aws-lambda-ric behind a bootstrap that applies the wrapper as the Lambda base images' does); and the
// proxy pattern: a wrapper that points the runtime at an extension which forwards to the Runtime API.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fx, runCli, runnerNode } from './helpers.js';
import { officialNodeEntry } from './official-node.js';

const WRAPPER = fx('wrappers', 'wrapper.sh');
const python = ['--handler', 'app.handler', fx('ext-fn'), 'data:,{"who":"wrapped"}', '-'];
const node = [
  '--runtime',
  'nodejs22.x',
  '--handler',
  'node.handler',
  fx('ext-fn'),
  'data:,{"who":"wrapped"}',
  '-',
];

test("the runner's Python client starts through the wrapper, which gets the interpreter and its arguments", async () => {
  const r = await runCli(python, { env: { AWS_LAMBDA_EXEC_WRAPPER: WRAPPER } });
  assert.equal(r.code, 0, r.stderr);
  const { env } = JSON.parse(r.stdout);
  assert.match(env.WRAPPED_BY, /^wrapper\.sh \/\S+\/python3(\.\d+)? -u \/\S+python_client\.py$/);
  assert.equal(env.AWS_LAMBDA_EXEC_WRAPPER, WRAPPER);
});

test("the runner's Node.js client starts through the wrapper, with node's own arguments kept", async () => {
  const r = await runCli(node, { env: { AWS_LAMBDA_EXEC_WRAPPER: WRAPPER } });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.match(out.wrappedBy, /^wrapper\.sh \/\S+\/node( --disable-sigusr1)? \/\S+node-client\.mjs$/);
});

test('under an official client the runner does not wrap: its bootstrap applies the wrapper, once', async (t) => {
  const found = officialNodeEntry();
  if ('skip' in found) {
    t.diagnostic(`official client skipped: ${found.skip}`);
    return;
  }
  // What the Lambda base images' /var/runtime/bootstrap does with the variable (the .NET one, public, reads the same).
  const opt = mkdtempSync(join(tmpdir(), 'official-wrapped-'));
  writeFileSync(
    join(opt, 'bootstrap'),
    [
      '#!/bin/bash',
      `set -- ${JSON.stringify(runnerNode)} ${JSON.stringify(found.index)}`,
      'if [ -z "$AWS_LAMBDA_EXEC_WRAPPER" ]; then exec "$@"; fi',
      'if [ ! -f "$AWS_LAMBDA_EXEC_WRAPPER" ]; then echo "$AWS_LAMBDA_EXEC_WRAPPER: does not exist"; exit 127; fi',
      'if [ ! -x "$AWS_LAMBDA_EXEC_WRAPPER" ]; then echo "$AWS_LAMBDA_EXEC_WRAPPER: is not an executable"; exit 126; fi',
      'exec -- "$AWS_LAMBDA_EXEC_WRAPPER" "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(join(opt, 'bootstrap'), 0o755);
  const r = await runCli(['--opt-dir', opt, ...node], { env: { AWS_LAMBDA_EXEC_WRAPPER: WRAPPER } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).wrappedBy, `wrapper.sh ${runnerNode} ${found.index}`);
});

test('a wrapper that does not exist fails the runtime as Lambda’s bootstraps do: Runtime.ExitError, exit 1', async () => {
  const r = await runCli(python, { env: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/no-such-wrapper' } });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.last,
    'Runtime.ExitError: /opt/no-such-wrapper: does not exist (AWS_LAMBDA_EXEC_WRAPPER); the runtime exited with code 127',
  );
});

test('the proxy pattern: a wrapper points the runtime at an extension, which forwards every call to the Runtime API', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-'));
  mkdirSync(join(dir, 'opt', 'extensions'), { recursive: true });
  copyFileSync(fx('extensions', 'proxy-ext.mjs'), join(dir, 'opt', 'extensions', 'proxy-ext'));
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const log = join(dir, 'ext.log');
  const r = await runCli(['--opt-dir', join(dir, 'opt'), ...python], {
    env: {
      AWS_LAMBDA_EXEC_WRAPPER: fx('wrappers', 'proxy-wrapper.sh'),
      PROXY_PORT: String(port),
      EXT_LOG: log,
    },
  });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.env.AWS_LAMBDA_RUNTIME_API, `127.0.0.1:${port}`, 'the runtime saw the proxy');
  const forwarded = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).forwarded as string);
  // (The runtime's next `next`, after its answer, may or may not come before the runner ends it.)
  assert.deepEqual(forwarded.slice(0, 2), [
    'GET /2018-06-01/runtime/invocation/next',
    `POST /2018-06-01/runtime/invocation/${out.request_id}/response`,
  ]);
});
