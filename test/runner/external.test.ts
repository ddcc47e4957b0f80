// --external-runtime: the runner starts no runtime and serves the Runtime API on an address; a runtime started as a
// separate process (a stand-in of a Lambda image's entrypoint running the runner's own Python client, as the function's
// container would) connects there and is served the invocation. And one that never connects.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { listening, startFunctionContainer } from '../support/function-container.js';
import { withLeasedPort } from '../support/ports.js';
import { fx, runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'external-'));

/** Runs the runner in external mode; starts the function's container once the runner says it is listening. */
async function runExternal(
  handler: string,
  payload: string,
  extra: string[] = [],
  code = fx('python-fn'),
  out?: string,
) {
  return withLeasedPort(async (port) => {
    const address = `127.0.0.1:${port}`;
    const output = out ?? join(dir, `${handler}-${port}.json`);
    let fnProc: ChildProcess | undefined;
    const r = await runCli(
      ['--external-runtime', '--runtime-api', address, ...extra, code, payload, output],
      {
        onStderr(text) {
          if (!fnProc && text.includes(listening(address)))
            fnProc = startFunctionContainer(address, code, handler);
        },
      },
    );
    fnProc?.kill('SIGKILL');
    return { ...r, out: output, address, started: fnProc !== undefined, fnProc };
  });
}

test('external runtime: a runtime started as a separate process connects to --runtime-api and is served the invocation', async () => {
  const payload = join(dir, 'in.json');
  writeFileSync(payload, JSON.stringify({ a: 1, text: 'héllo' }));
  const r = await runExternal('handlers.echo', payload);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.started);
  assert.deepEqual(JSON.parse(readFileSync(r.out, 'utf8')), { a: 1, text: 'héllo' });
  // The runner started no runtime of its own.
  assert.doesNotMatch(r.stderr, /served by the runner's Python client/);
});

test('external runtime: a handler error reaches the last line and exit 1 as with a runtime the runner starts', async () => {
  const r = await runExternal('handlers.value_error', fx('payload.json'));
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.last, /^ValueError: /);
});

test('external runtime: one that dies mid-invocation is seen within seconds (not at the deadline): exit 1, Runtime.ExitError, its record, no result', async () => {
  // The deadline is far: a runner that does not watch the runtime's process ends this run only there (exit 124).
  const r = await runExternal('handlers.exits', fx('payload.json'), ['--timeout', '60']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.last,
    /^Runtime\.ExitError: the function's runtime \(process \d+, python3\) ended before it returned a result$/,
  );
  assert.equal(r.fnProc?.signalCode, 'SIGKILL');
  assert.throws(() => readFileSync(r.out), /ENOENT/);
  const record = JSON.parse(readFileSync(r.out.replace(/\.json$/, '.run.json'), 'utf8'));
  assert.deepEqual(
    [record.status, record.exit_code, record.error.errorType],
    ['failed', 1, 'Runtime.ExitError'],
  );
});

test('external runtime: in an item set, the item whose runtime dies fails as Runtime.ExitError and the later ones at once (its container is not started again)', async () => {
  const set = mkdtempSync(join(dir, 'set-'));
  mkdirSync(join(set, 'in'));
  mkdirSync(join(set, 'out'));
  [{}, { do: 'crash' }, {}].forEach((e, i) => {
    writeFileSync(join(set, 'in', `${i}.json`), JSON.stringify({ i, ...e }));
  });
  const r = await runExternal(
    'items.handler',
    `${join(set, 'in')}/`,
    ['--handler', 'items.handler', '--item-count', '3', '--items-per-job', '3', '--timeout', '60'],
    fx('set-fn'),
    `${join(set, 'out')}/`,
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.last,
    /^ItemsFailedError: 2 of 3 items failed: 1 \(Runtime\.ExitError\), 2 \(Runtime\.ExitError\)/,
  );
  const error = (i: number) => JSON.parse(readFileSync(join(set, 'out', `${i}.error.json`), 'utf8'));
  assert.match(
    error(1).errorMessage,
    /^the function's runtime \(process \d+, python3\) ended before it returned a result$/,
  );
  assert.match(
    error(2).errorMessage,
    /ended, and a runtime in another container is not started again: nothing more can be served$/,
  );
  assert.equal(JSON.parse(readFileSync(join(set, 'out', '0.json'), 'utf8')).i, 0);
});

test('external runtime: one that never connects ends the run with exit 3 naming the address and the wait', async () => {
  await withLeasedPort(async (port) => {
    const r = await runCli([
      '--external-runtime',
      '--runtime-api',
      `127.0.0.1:${port}`,
      '--init-timeout',
      '0.5',
      fx('python-fn'),
      fx('payload.json'),
      join(dir, 'never.json'),
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(
      r.last,
      `RuntimeNotAvailableError: no runtime asked for an invocation at 127.0.0.1:${port} within 0.5 s (--init-timeout): the function's container must start its runtime with AWS_LAMBDA_RUNTIME_API=127.0.0.1:${port}`,
    );
  });
});

test('external runtime: an address already in use is exit 3 before anything runs', async () => {
  const busy: Server = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const { port } = busy.address() as { port: number };
  try {
    const r = await runCli(
      ['--external-runtime', '--runtime-api', `127.0.0.1:${port}`, fx('python-fn'), '-'],
      {
        input: '{}',
      },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.equal(
      r.last,
      `RuntimeNotAvailableError: cannot serve the Runtime API on 127.0.0.1:${port}: the address is in use`,
    );
  } finally {
    busy.close();
  }
});

const usage: [string, string[], Record<string, string>, RegExp][] = [
  [
    '--runtime-api without --external-runtime',
    ['--runtime-api', '127.0.0.1:9001'],
    {},
    /^UsageError: --runtime-api is for --external-runtime/,
  ],
  [
    '--init-timeout without --external-runtime',
    ['--init-timeout', '5'],
    {},
    /^UsageError: --init-timeout is for --external-runtime/,
  ],
  [
    'an address without a port',
    ['--external-runtime', '--runtime-api', '127.0.0.1'],
    {},
    /^UsageError: --runtime-api must be host:port .*"127\.0\.0\.1"/,
  ],
  [
    'port 0',
    ['--external-runtime', '--runtime-api', 'localhost:0'],
    {},
    /^UsageError: --runtime-api must be/,
  ],
  ['port past 65535', ['--external-runtime', '--runtime-api', 'h:65536'], {}, /^UsageError: --runtime-api/],
  [
    'an init timeout of 0',
    ['--external-runtime', '--init-timeout', '0'],
    {},
    /^UsageError: --init-timeout must be/,
  ],
  [
    'a bad RUN_LAMBDA_EXTERNAL_RUNTIME',
    [],
    { RUN_LAMBDA_EXTERNAL_RUNTIME: 'maybe' },
    /^UsageError: RUN_LAMBDA_EXTERNAL_RUNTIME must be true or false/,
  ],
  [
    'a bad RUN_LAMBDA_RUNTIME_API',
    [],
    { RUN_LAMBDA_EXTERNAL_RUNTIME: '1', RUN_LAMBDA_RUNTIME_API: 'nowhere' },
    /^UsageError: --runtime-api must be host:port/,
  ],
  [
    '--external-runtime=yes',
    ['--external-runtime=yes'],
    {},
    /^UsageError: option --external-runtime takes no value/,
  ],
];
for (const [name, args, env, last] of usage) {
  test(`external runtime: bad usage: ${name} → exit 2`, async () => {
    const r = await runCli([...args, fx('python-fn'), fx('payload.json'), '-'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.last, last);
  });
}

test('external runtime: the env twins turn it on (RUN_LAMBDA_EXTERNAL_RUNTIME, RUN_LAMBDA_RUNTIME_API, RUN_LAMBDA_INIT_TIMEOUT)', async () => {
  await withLeasedPort(async (port) => {
    const r = await runCli([fx('python-fn'), fx('payload.json'), join(dir, 'twins.json')], {
      env: {
        RUN_LAMBDA_EXTERNAL_RUNTIME: 'true',
        RUN_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
        RUN_LAMBDA_INIT_TIMEOUT: '0.3',
      },
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.last, new RegExp(`at 127\\.0\\.0\\.1:${port} within 0\\.3 s`));
  });
});
