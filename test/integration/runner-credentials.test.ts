// Credentials as Lambda gives them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN in the runtime's and
// the extensions' environment), for a deployed function on moto with an extension in a layer: the job role's, from a
// container credentials endpoint as Batch's; and with --assume-function-role its execution role's, assumed through
// moto's STS. Gap: moto does not check IAM, so a job role without sts:AssumeRole is not refused here (the template's
// policy is checked in test/unit/template*.test.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { RUNNER, withRunnerHarness } from '../faults/support.js';
import { ACCOUNT_ID, createFunction, createLayer, createRole, REGION } from './harness/fixtures.js';
import type { Harness } from './harness/index.js';

const HANDLER = `import os

def lambda_handler(event, context):
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    return {k: os.environ.get(k) for k in keys}
`;
const EXTENSION = readFileSync(
  new URL('../runner/fixtures/extensions/node-ext.mjs', import.meta.url),
  'utf8',
);

let h: Harness;
let dir: string;
let layer: string;
withRunnerHarness({ prefix: 'runner-credentials-' }, async (started) => {
  ({ h, dir } = started);
  layer = await createLayer(h, 'creds-ext', { 'extensions/node-ext': { content: EXTENSION, mode: 0o755 } });
});

/** Batch's container credentials endpoint, as the SDKs read it (AWS_CONTAINER_CREDENTIALS_FULL_URI on the loopback). */
let endpoint: Server;
const JOB = {
  AccessKeyId: 'ASIAJOBROLEEXAMPLE01',
  SecretAccessKey: 'job-secret',
  Token: 'job-session-token',
};
before(async () => {
  endpoint = createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ ...JOB, Expiration: new Date(Date.now() + 3600_000).toISOString() }));
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
});
after(() => endpoint.close());

let n = 0;
function runLambda(args: string[], env: Record<string, string | undefined>) {
  const log = join(dir, `ext-${++n}.log`);
  const full: Record<string, string | undefined> = { ...process.env, ...h.env, EXT_LOG: log, ...env };
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
  const child = spawn(
    process.execPath,
    [RUNNER, '--cache-dir', join(dir, `cache-${n}`), '--opt-dir', join(dir, `opt-${n}`), ...args],
    {
      env: full as Record<string, string>,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  return new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
    extension: () => Record<string, unknown>;
  }>((resolve) =>
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        extension: () => JSON.parse(readFileSync(log, 'utf8').split('\n')[0] ?? '{}'),
      }),
    ),
  );
}

test("by default the runtime and the extensions get the job role's credentials, from the container's endpoint", async () => {
  await createFunction(h, { name: 'creds-job', files: { 'lambda_function.py': HANDLER }, layers: [layer] });
  const r = await runLambda(['creds-job', 'data:,{}', '-'], {
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    AWS_CONFIG_FILE: join(dir, 'none'),
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/v2/credentials/x`,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    AWS_ACCESS_KEY_ID: JOB.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: JOB.SecretAccessKey,
    AWS_SESSION_TOKEN: JOB.Token,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: null,
  });
  assert.equal(r.extension().credentials, JOB.AccessKeyId, 'the extension got them too');
});

test('--assume-function-role: the function runs with its execution role, assumed through STS (moto)', async () => {
  const role = await createRole(h, 'creds-fn-exec-role');
  await createFunction(h, {
    name: 'creds-own',
    files: { 'lambda_function.py': HANDLER },
    layers: [layer],
    role,
  });
  for (const how of [['--assume-function-role'], []]) {
    h.front.clear();
    const r = await runLambda(
      [...how, 'creds-own', 'data:,{}', '-'],
      how.length ? {} : { RUN_LAMBDA_ASSUME_FUNCTION_ROLE: '1' },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(h.front.calls('sts', 'AssumeRole').length, 1, 'one AssumeRole, through the endpoint');
    const got = JSON.parse(r.stdout);
    assert.notEqual(got.AWS_ACCESS_KEY_ID, h.env.AWS_ACCESS_KEY_ID);
    assert.ok(got.AWS_SESSION_TOKEN, 'a session token');
    assert.equal(r.extension().credentials, got.AWS_ACCESS_KEY_ID);
    assert.match(
      r.stderr,
      /the function runs with its execution role arn:aws:iam::\d+:role\/creds-fn-exec-role, valid until /,
    );
    const sts = new STSClient({
      region: REGION,
      endpoint: h.endpoint,
      credentials: {
        accessKeyId: got.AWS_ACCESS_KEY_ID,
        secretAccessKey: got.AWS_SECRET_ACCESS_KEY,
        sessionToken: got.AWS_SESSION_TOKEN,
      },
    });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/creds-fn-exec-role/run-lambda-creds-own`);
  }
});

test('--assume-function-role with code from a folder is a usage error (it has no execution role)', async () => {
  const r = await runLambda(['--assume-function-role', join(dir), 'data:,{}', '-'], {});
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr.trim().split('\n').at(-1) ?? '',
    /^UsageError: --assume-function-role is for a deployed function/,
  );
});
