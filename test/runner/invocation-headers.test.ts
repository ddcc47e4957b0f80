// What an invocation carries besides the event: tenant id, client context and Cognito identity from the
// command line, through both own clients (and the official Node.js client where it runs); bad values refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fx, runCli } from './helpers.js';
import { sameAsOfficial } from './official-node.js';

const fn = fx('parity-fn');
const clientContext = { custom: { k: 'v' }, env: { e: 1 }, client: { app_title: 'app ✓' } };
const identity = { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' };
const flags = [
  '--tenant-id',
  'tenant-42',
  '--client-context',
  Buffer.from(JSON.stringify(clientContext)).toString('base64'),
  '--cognito-identity',
  JSON.stringify(identity),
];

test('python: the context has the tenant id, client context and Cognito identity given on the command line', async () => {
  const r = await runCli([...flags, '--handler', 'py.context', fn, 'data:,{}', '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    tenant_id: 'tenant-42',
    identity: { id: 'id-1', pool: 'pool-1' },
    client_context: { custom: { k: 'v' }, env: { e: 1 }, app_title: 'app ✓' },
  });
  const none = await runCli(['--handler', 'py.context', fn, 'data:,{}', '-']);
  assert.deepEqual(JSON.parse(none.stdout), {
    tenant_id: null,
    identity: { id: null, pool: null },
    client_context: null,
  });
});

test('node: the context has the tenant id, client context and Cognito identity given on the command line', async (t) => {
  const args = ['--runtime', 'nodejs24.x', ...flags, '--handler', 'js.context', fn, 'data:,{}', '-'];
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { tenant_id: 'tenant-42', identity, client_context: clientContext });
  await sameAsOfficial(t, args, r);
});

test('the runtime sees AWS_LAMBDA_INITIALIZATION_TYPE=on-demand and never AWS_LAMBDA_MAX_CONCURRENCY', async () => {
  const r = await runCli(['--handler', 'py.init_type', fn, 'data:,{}', '-'], {
    env: { AWS_LAMBDA_MAX_CONCURRENCY: '8' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_MAX_CONCURRENCY: null,
  });
});

const bad: { name: string; args: string[]; last: RegExp }[] = [
  {
    name: 'an empty tenant id',
    args: ['--tenant-id='],
    last: /^UsageError: option --tenant-id needs a value$/,
  },
  {
    name: 'a tenant id with a newline',
    args: ['--tenant-id', 'a\nInjected: header'],
    last: /^UsageError: --tenant-id must be 1 to 256 letters/,
  },
  {
    name: 'a tenant id of 257 characters',
    args: ['--tenant-id', 't'.repeat(257)],
    last: /^UsageError: --tenant-id must be/,
  },
  {
    name: 'a client context that is not JSON',
    args: ['--client-context', '{"secret": hunter2}'],
    last: /^UsageError: --client-context must be a JSON object \(or one in base64\)$/,
  },
  {
    name: 'a client context array',
    args: ['--client-context', '[1]'],
    last: /^UsageError: --client-context must be a JSON object, not an array$/,
  },
  {
    name: 'a client context over 3583 bytes in base64',
    args: ['--client-context', JSON.stringify({ custom: { k: 'x'.repeat(3000) } })],
    last: /^UsageError: --client-context is larger than Lambda's 3583 bytes/,
  },
  {
    name: 'a Cognito identity that is not an object',
    args: ['--cognito-identity', '"id"'],
    last: /^UsageError: --cognito-identity must be a JSON object, not string$/,
  },
];

for (const c of bad) {
  test(`refused before anything runs: ${c.name}`, async () => {
    const r = await runCli([...c.args, '--handler', 'py.echo', fn, 'data:,{}', '-']);
    assert.equal(r.code, 2, r.stderr.slice(-500));
    assert.match(r.last, c.last);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });
}
