import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { RUNNER, withRunnerHarness } from '../faults/support.js';
import {
  ACCOUNT_ID,
  createFunction,
  createLayer,
  getJson,
  getObject,
  publishVersion,
  putObject,
  REGION,
} from './harness/fixtures.js';
import type { Harness } from './harness/index.js';
import { unsafeZip } from './harness/zip.js';

const BUCKET = 'cli-payloads';
const arnOf = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;

let h: Harness;
let dir: string;
withRunnerHarness({ prefix: 'runner-aws-cli-', bucket: BUCKET }, (started) => {
  ({ h, dir } = started);
});

interface Ran {
  code: number | null;
  stderr: string;
  lastLine: string;
}

/** Runs the built runner asynchronously (the harness front answers from this process). */
function runLambda(args: string[], cacheDir: string, optDir = join(cacheDir, 'opt')): Promise<Ran> {
  const child = spawn(process.execPath, [RUNNER, '--cache-dir', cacheDir, '--opt-dir', optDir, ...args], {
    env: { ...process.env, ...h.env, RUN_LAMBDA_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const lines = stderr.trimEnd().split('\n');
      resolve({ code, stderr, lastLine: lines[lines.length - 1] ?? '' });
    });
  });
}

let n = 0;
const freshCache = () => join(dir, `cache-${++n}`);

const PY_HANDLER = `import os
import dep

def lambda_handler(event, context):
    return {
        "echo": event,
        "greeting": os.environ.get("GREETING"),
        "dep": dep.VALUE,
        "arn": context.invoked_function_arn,
        "name": context.function_name,
        "memory": int(context.memory_limit_in_mb),
    }
`;

test('a Python function with its layer runs, sees its env var and ARN, and its result goes to <payload>_out.json', async () => {
  const layer = await createLayer(h, 'cli-deps', { 'python/dep.py': 'VALUE = 7\n' });
  await createFunction(h, {
    name: 'cli-py',
    files: { 'lambda_function.py': PY_HANDLER },
    env: { GREETING: 'hi' },
    layers: [layer],
    memory: 256,
  });
  await putObject(h, BUCKET, 'py/in.json', { n: 1 });
  const r = await runLambda([arnOf('cli-py'), `s3://${BUCKET}/py/in.json`], freshCache());
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'py/in.json'), { n: 1 }, 'the input is never overwritten');
  assert.deepEqual(await getJson(h, BUCKET, 'py/in_out.json'), {
    echo: { n: 1 },
    greeting: 'hi',
    dep: 7,
    arn: arnOf('cli-py'),
    name: 'cli-py',
    memory: 256,
  });
  // Only the runner's own short lines and the function's output: no SDK notices about Node versions.
  assert.doesNotMatch(r.stderr, /NodeVersionSupportWarning/);
});

test('a Node.js function runs and its result goes to the output URL, leaving the input as it was', async () => {
  await createFunction(h, {
    name: 'cli-node',
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    files: {
      'index.mjs':
        'export const handler = async (event, context) => ({ doubled: event.n * 2, arn: context.invokedFunctionArn });\n',
    },
  });
  await putObject(h, BUCKET, 'node/in.json', { n: 21 });
  const r = await runLambda(
    ['cli-node', `s3://${BUCKET}/node/in.json`, `s3://${BUCKET}/node/in_out.json`],
    freshCache(),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'node/in_out.json'), { doubled: 42, arn: arnOf('cli-node') });
  assert.deepEqual(await getJson(h, BUCKET, 'node/in.json'), { n: 21 });
});

const BOOTSTRAP = `#!/bin/sh
exec node "$LAMBDA_TASK_ROOT/runtime.mjs"
`;
const CUSTOM_RUNTIME = `const api = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2018-06-01/runtime/invocation/';
const next = await fetch(api + 'next');
const id = next.headers.get('lambda-runtime-aws-request-id');
const event = await next.json();
await fetch(api + id + '/response', { method: 'POST', body: JSON.stringify({ custom: event.n, handler: process.env._HANDLER }) });
`;

test('a custom runtime (bootstrap in the code) runs', async () => {
  await createFunction(h, {
    name: 'cli-custom',
    runtime: 'provided.al2023',
    handler: 'my.handler',
    files: { bootstrap: { content: BOOTSTRAP, mode: 0o755 }, 'runtime.mjs': CUSTOM_RUNTIME },
  });
  await putObject(h, BUCKET, 'custom/in.json', { n: 5 });
  const r = await runLambda(['cli-custom', `s3://${BUCKET}/custom/in.json`], freshCache());
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'custom/in_out.json'), { custom: 5, handler: 'my.handler' });
});

test('a qualified ARN runs that version and the handler sees the qualified ARN', async () => {
  await createFunction(h, {
    name: 'cli-versioned',
    files: {
      'lambda_function.py':
        'def lambda_handler(event, context):\n    return {"arn": context.invoked_function_arn, "v": context.function_version}\n',
    },
  });
  const version = await publishVersion(h, 'cli-versioned');
  await putObject(h, BUCKET, 'v/in.json', {});
  const r = await runLambda(
    [`${arnOf('cli-versioned')}:${version}`, `s3://${BUCKET}/v/in.json`],
    freshCache(),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'v/in_out.json'), {
    arn: `${arnOf('cli-versioned')}:${version}`,
    v: version,
  });
});

test('tampered code exits 3 with ChecksumMismatchError and nothing is extracted', async () => {
  await createFunction(h, { name: 'cli-tampered' });
  h.front.codeFault('cli-tampered', { kind: 'wrong-bytes' });
  await putObject(h, BUCKET, 't/in.json', { n: 1 });
  const cache = freshCache();
  const r = await runLambda(['cli-tampered', `s3://${BUCKET}/t/in.json`], cache);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.lastLine, /^ChecksumMismatchError: /);
  assert.deepEqual(
    (await readdir(cache)).filter((f) => f.startsWith('code-')),
    [],
  );
  assert.deepEqual(await getJson(h, BUCKET, 't/in.json'), { n: 1 });
});

for (const kind of ['dotdot', 'symlink-escape'] as const) {
  test(`an unsafe zip (${kind}) exits 3 and nothing is written outside`, async () => {
    await createFunction(h, { name: `cli-unsafe-${kind}`, zip: unsafeZip(kind) });
    await putObject(h, BUCKET, `u/${kind}.json`, {});
    const cache = freshCache();
    const r = await runLambda([`cli-unsafe-${kind}`, `s3://${BUCKET}/u/${kind}.json`], cache);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.lastLine, /^UnsafeArchiveError: /);
    assert.deepEqual(
      (await readdir(cache)).filter((f) => !f.startsWith('runtime') && f !== 'opt'),
      [],
    );
    assert.equal(existsSync(join(dir, 'escaped.txt')), false);
  });
}

test('an expired code URL is asked for again and the run passes', async () => {
  await createFunction(h, { name: 'cli-expired' });
  h.front.codeFault('cli-expired', { kind: 'expire-once' });
  await putObject(h, BUCKET, 'e/in.json', { e: 1 });
  h.front.clear();
  const r = await runLambda(['cli-expired', `s3://${BUCKET}/e/in.json`], freshCache());
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    h.front.downloads().map((d) => d.status),
    [403, 200],
  );
  assert.deepEqual(await getJson(h, BUCKET, 'e/in.json'), { e: 1 });
});

test('an unknown function exits 3 naming it', async () => {
  await putObject(h, BUCKET, 'x/in.json', {});
  const r = await runLambda(['cli-no-such-fn', `s3://${BUCKET}/x/in.json`], freshCache());
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.lastLine, /^FunctionNotFoundError: .*cli-no-such-fn/);
});

test('a missing payload object exits 2 naming it (Batch must not retry it)', async () => {
  await createFunction(h, { name: 'cli-nopayload' });
  const r = await runLambda(['cli-nopayload', `s3://${BUCKET}/missing/in.json`], freshCache());
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.lastLine,
    'PayloadAccessError: could not read the payload s3://cli-payloads/missing/in.json: the object does not exist',
  );
  assert.equal(await getObject(h, BUCKET, 'missing/in.json'), undefined);
  assert.equal(await getObject(h, BUCKET, 'missing/in_out.json'), undefined);
});

test('a payload in a bucket that does not exist exits 2 saying so', async () => {
  await createFunction(h, { name: 'cli-nobucket' });
  const r = await runLambda(['cli-nobucket', 's3://no-such-bucket-here/in.json'], freshCache());
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.lastLine,
    'PayloadAccessError: could not read the payload s3://no-such-bucket-here/in.json: the bucket does not exist',
  );
});

test('AccessDenied on writing the result exits 2 naming the permission; the input stays', async () => {
  await createFunction(h, { name: 'cli-denied-put' });
  await putObject(h, BUCKET, 'dp/in.json', { d: 1 });
  const denied = h.front.fault({
    match: (r) => r.operation === 'PutObject' && r.path === `/${BUCKET}/dp/in_out.json`,
    kind: 'error',
    status: 403,
    code: 'AccessDenied',
  });
  try {
    const r = await runLambda(['cli-denied-put', `s3://${BUCKET}/dp/in.json`], freshCache());
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.lastLine,
      /^PayloadAccessError: could not write the result to s3:\/\/cli-payloads\/dp\/in_out\.json: access denied .*s3:PutObject/,
    );
    assert.equal(denied.hits, 1, 'a denial is not retried');
  } finally {
    denied.remove();
  }
  assert.deepEqual(await getJson(h, BUCKET, 'dp/in.json'), { d: 1 });
  assert.equal(await getObject(h, BUCKET, 'dp/in_out.json'), undefined);
});

test('the second run of the same version downloads no code', async () => {
  await createFunction(h, {
    name: 'cli-cached',
    layers: [await createLayer(h, 'cli-c-l', { 'python/c.py': '' })],
  });
  await putObject(h, BUCKET, 'c/in.json', { c: 1 });
  const cache = freshCache();
  const first = await runLambda(
    ['cli-cached', `s3://${BUCKET}/c/in.json`, `s3://${BUCKET}/c/out1.json`],
    cache,
  );
  assert.equal(first.code, 0, first.stderr);
  h.front.clear();
  const second = await runLambda(
    ['cli-cached', `s3://${BUCKET}/c/in.json`, `s3://${BUCKET}/c/out2.json`],
    cache,
  );
  assert.equal(second.code, 0, second.stderr);
  assert.equal(h.front.downloads().length, 0);
  assert.deepEqual(await getJson(h, BUCKET, 'c/out2.json'), { c: 1 });
});

test('two concurrent runs of a new version both succeed', async () => {
  await createFunction(h, {
    name: 'cli-concurrent',
    files: { 'lambda_function.py': PY_HANDLER, 'dep.py': 'VALUE = 3\n' },
  });
  await putObject(h, BUCKET, 'cc/in.json', { k: 1 });
  const cache = freshCache();
  h.front.clear();
  const [a, b] = await Promise.all([
    runLambda(
      ['cli-concurrent', `s3://${BUCKET}/cc/in.json`, `s3://${BUCKET}/cc/a.json`],
      cache,
      join(dir, 'opt-a'),
    ),
    runLambda(
      ['cli-concurrent', `s3://${BUCKET}/cc/in.json`, `s3://${BUCKET}/cc/b.json`],
      cache,
      join(dir, 'opt-b'),
    ),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(((await getJson(h, BUCKET, 'cc/a.json')) as { dep: number }).dep, 3);
  assert.equal(((await getJson(h, BUCKET, 'cc/b.json')) as { dep: number }).dep, 3);
  assert.equal((await readdir(cache)).filter((f) => /^code-[0-9a-f]{64}$/.test(f)).length, 1);
});

test('code larger than the CodeSize GetFunction reported is refused with exit 3 naming both sizes, nothing extracted', async () => {
  const fn = await createFunction(h, { name: 'cli-oversized' });
  // 64 MiB served where GetFunction still reports the real, tiny zip.
  h.front.codeFault('cli-oversized', {
    kind: 'replace',
    bytes: Buffer.alloc(64 * 1024 * 1024, 1),
    reportSha: false,
  });
  await putObject(h, BUCKET, 'big/in.json', {});
  const cache = freshCache();
  const r = await runLambda(['cli-oversized', `s3://${BUCKET}/big/in.json`], cache);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(
    r.lastLine,
    `ChecksumMismatchError: the code of cli-oversized is larger than the ${fn.CodeSize} bytes Lambda reported (CodeSize): the server announced ${64 * 1024 * 1024} bytes`,
  );
  assert.deepEqual(
    (await readdir(cache)).filter((f) => f.startsWith('code-')),
    [],
  );
});

test('an unknown runtime in the function configuration is exit 3 (the function cannot be prepared), not a usage error', async () => {
  await createFunction(h, { name: 'cli-cobol', runtime: 'cobol85' });
  await putObject(h, BUCKET, 'cobol/in.json', {});
  const r = await runLambda(['cli-cobol', `s3://${BUCKET}/cobol/in.json`], freshCache());
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.lastLine,
    /^RuntimeNotAvailableError: the function's configuration names an unknown runtime "cobol85"/,
  );
  assert.equal(await getObject(h, BUCKET, 'cobol/in_out.json'), undefined);
});

test('a NUL in a function environment value is exit 3 naming the variable, not its value', async () => {
  await createFunction(h, { name: 'cli-nul-env', env: { GOOD: 'x', SECRET_TOKEN: 'hunter2\u0000rest' } });
  await putObject(h, BUCKET, 'nul/in.json', {});
  const r = await runLambda(['cli-nul-env', `s3://${BUCKET}/nul/in.json`], freshCache());
  assert.equal(r.code, 3, r.stderr);
  assert.equal(
    r.lastLine,
    `FunctionPrepareError: the function's environment variable "SECRET_TOKEN" cannot be passed to a process: its value holds a NUL byte`,
  );
  assert.doesNotMatch(r.stderr, /hunter2/);
});

const ENV_HANDLER = `import os, time

def lambda_handler(event, context):
    keys = ("TZ", "PATH", "PYTHONPATH", "LD_LIBRARY_PATH", "NODE_PATH", "RUN_LAMBDA_COMPAT", "RUN_LAMBDA_JOB", "RUN_LAMBDA_LOG_LEVEL")
    return {"env": {k: os.environ.get(k) for k in keys}, "tzname": time.tzname[0], "arn": context.invoked_function_arn}
`;

test("the function's own TZ wins over :UTC, and its PATH, PYTHONPATH, LD_LIBRARY_PATH and NODE_PATH follow Lambda's", async () => {
  await createFunction(h, {
    name: 'cli-env-own',
    files: { 'lambda_function.py': ENV_HANDLER },
    env: {
      TZ: 'America/New_York',
      PATH: '/fn/bin',
      PYTHONPATH: '/fn/py',
      LD_LIBRARY_PATH: '/fn/lib',
      NODE_PATH: '/fn/node',
    },
  });
  await putObject(h, BUCKET, 'envown/in.json', {});
  const opt = join(dir, 'opt-env-own');
  const r = await runLambda(['cli-env-own', `s3://${BUCKET}/envown/in.json`], freshCache(), opt);
  assert.equal(r.code, 0, r.stderr);
  const out = (await getJson(h, BUCKET, 'envown/in_out.json')) as {
    env: Record<string, string>;
    tzname: string;
  };
  assert.equal(out.env.TZ, 'America/New_York');
  assert.match(out.tzname, /^E[SD]T$/);
  const parts = (k: string) => out.env[k]?.split(':') ?? [];
  assert.equal(parts('PATH').at(-1), '/fn/bin');
  assert.ok(parts('PATH').includes(join(opt, 'bin')), 'Lambda keeps /opt/bin before the function’s own');
  assert.ok(parts('PATH').indexOf(join(opt, 'bin')) < parts('PATH').indexOf('/fn/bin'));
  assert.equal(parts('PYTHONPATH').at(-1), '/fn/py');
  assert.equal(parts('PYTHONPATH')[0], join(opt, 'python'));
  assert.equal(parts('LD_LIBRARY_PATH').at(-1), '/fn/lib');
  assert.ok(parts('LD_LIBRARY_PATH').includes(join(opt, 'lib')));
  assert.equal(parts('NODE_PATH').at(-1), '/fn/node');
  assert.ok(parts('NODE_PATH').includes(join(opt, 'nodejs', 'node_modules')));
});

test('a function variable RUN_LAMBDA_COMPAT does not switch the runner into compat mode; it is dropped with a warning, and RUN_LAMBDA_JOB=1 is set', async () => {
  await createFunction(h, {
    name: 'cli-env-compat',
    files: { 'lambda_function.py': ENV_HANDLER },
    env: { RUN_LAMBDA_COMPAT: 'cirrus-v0', RUN_LAMBDA_LOG_LEVEL: 'debug', KEEP: '1' },
  });
  await putObject(h, BUCKET, 'envcompat/in.json', {});
  const r = await runLambda(['cli-env-compat', `s3://${BUCKET}/envcompat/in.json`], freshCache());
  // In compat mode the handler would be called with the event alone and fail on its missing context.
  assert.equal(r.code, 0, r.stderr);
  const out = (await getJson(h, BUCKET, 'envcompat/in_out.json')) as {
    env: Record<string, string | null>;
    arn: string;
  };
  assert.equal(out.arn, arnOf('cli-env-compat'));
  assert.equal(out.env.RUN_LAMBDA_COMPAT, null);
  assert.equal(out.env.RUN_LAMBDA_LOG_LEVEL, null);
  assert.equal(out.env.RUN_LAMBDA_JOB, '1');
  const warnings = r.stderr
    .split('\n')
    .filter((l) => /ignoring the function's RUN_LAMBDA_COMPAT, RUN_LAMBDA_LOG_LEVEL/.test(l));
  assert.equal(warnings.length, 1, r.stderr);
});

const SEES = `import importlib.util, os

def lambda_handler(event, context):
    opt = os.environ["LAMBDA_OPT"]
    return {
        "layer_a": importlib.util.find_spec("moda") is not None,
        "gdal": open(os.path.join(opt, "share", "gdal", "data.txt")).read(),
    }
`;

test('each run’s opt dir holds exactly its function’s layers: a later function does not see an earlier one’s, and the image’s own files come back', async () => {
  const opt = join(dir, 'opt-shared');
  await mkdir(join(opt, 'share', 'gdal'), { recursive: true });
  await writeFile(join(opt, 'share', 'gdal', 'data.txt'), 'image');
  const layer = await createLayer(h, 'cli-layer-a', {
    'python/moda.py': 'A = 1\n',
    'share/gdal/data.txt': 'layer',
  });
  await createFunction(h, {
    name: 'cli-fn-a',
    files: { 'lambda_function.py': SEES },
    layers: [layer],
    env: { LAMBDA_OPT: opt },
  });
  await createFunction(h, {
    name: 'cli-fn-b',
    files: { 'lambda_function.py': SEES },
    env: { LAMBDA_OPT: opt },
  });
  await putObject(h, BUCKET, 'optdir/in.json', {});
  const cache = freshCache();
  const a = await runLambda(
    ['cli-fn-a', `s3://${BUCKET}/optdir/in.json`, `s3://${BUCKET}/optdir/a.json`],
    cache,
    opt,
  );
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'optdir/a.json'), { layer_a: true, gdal: 'layer' });
  assert.deepEqual(await readdir(opt), ['share'], 'after the run: the image’s files only');
  const b = await runLambda(
    ['cli-fn-b', `s3://${BUCKET}/optdir/in.json`, `s3://${BUCKET}/optdir/b.json`],
    cache,
    opt,
  );
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(await getJson(h, BUCKET, 'optdir/b.json'), { layer_a: false, gdal: 'image' });
});

test('a run killed with SIGKILL leaves its layers in the opt dir; the next run takes them off before its function starts', async () => {
  const opt = join(dir, 'opt-killed');
  await mkdir(opt, { recursive: true });
  await writeFile(join(opt, 'image.txt'), 'image');
  const layer = await createLayer(h, 'cli-layer-k', { 'python/modk.py': 'K = 1\n' });
  await createFunction(h, {
    name: 'cli-fn-k',
    files: {
      'lambda_function.py':
        'import sys, time\n\ndef lambda_handler(event, context):\n    print("handler up", file=sys.stderr, flush=True)\n    time.sleep(30)\n',
    },
    layers: [layer],
  });
  await createFunction(h, {
    name: 'cli-fn-after',
    files: {
      'lambda_function.py':
        'import importlib.util\n\ndef lambda_handler(event, context):\n    return {"k": importlib.util.find_spec("modk") is not None}\n',
    },
  });
  await putObject(h, BUCKET, 'killed/in.json', {});
  const cache = freshCache();
  const child = spawn(
    process.execPath,
    [RUNNER, '--cache-dir', cache, '--opt-dir', opt, 'cli-fn-k', `s3://${BUCKET}/killed/in.json`],
    { env: { ...process.env, ...h.env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (/handler up/.test(stderr)) child.kill('SIGKILL');
  });
  await new Promise((resolve) => child.on('exit', resolve));
  assert.ok(existsSync(join(opt, 'python', 'modk.py')), `the killed run's layer is still there: ${stderr}`);
  const r = await runLambda(
    ['cli-fn-after', `s3://${BUCKET}/killed/in.json`, `s3://${BUCKET}/killed/out.json`],
    cache,
    opt,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /taking the layers of a run that ended without doing so/);
  assert.deepEqual(await getJson(h, BUCKET, 'killed/out.json'), { k: false });
  assert.deepEqual(await readdir(opt), ['image.txt']);
});

test('a run’s result PutObject carries the CRC-32 the Runtime API computed, matching the stored bytes', async () => {
  await createFunction(h, {
    name: 'cli-crc',
    files: {
      'lambda_function.py':
        'def lambda_handler(event, context):\n    return {"text": "ü" * 3000, "n": event["n"]}\n',
    },
  });
  await putObject(h, BUCKET, 'crc/in.json', { n: 3 });
  h.front.clear();
  const r = await runLambda(['cli-crc', `s3://${BUCKET}/crc/in.json`], freshCache());
  assert.equal(r.code, 0, r.stderr);
  const stored = (await getObject(h, BUCKET, 'crc/in_out.json')) as Buffer;
  const put = h.front.calls('s3', 'PutObject').find((p) => p.path === `/${BUCKET}/crc/in_out.json`);
  const expected = Buffer.alloc(4);
  expected.writeUInt32BE(crc32(stored) >>> 0);
  assert.equal(put?.headers['x-amz-checksum-crc32'], expected.toString('base64'));
});
