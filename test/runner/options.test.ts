import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../runner/errors.js';
import { isLocalRef } from '../../runner/local-function.js';
import { defaultCacheDir, parseArgs } from '../../runner/options.js';
import { decodeDataUrl, parsePayloadUrl } from '../../runner/payload/source.js';
import { defaultOutputUrl, parseOutputUrl } from '../../runner/payload/target.js';

const run = (argv: string[], env: Record<string, string> = {}) => {
  const p = parseArgs(argv, { HOME: '/home/u', ...env });
  assert.equal(p.kind, 'run');
  return p.kind === 'run' ? p.options : assert.fail();
};

test('options: defaults, then env twins, then flags (flag wins)', () => {
  const d = run(['fn', 'p.json']);
  assert.deepEqual(
    {
      cacheDir: d.cacheDir,
      useCache: d.useCache,
      optDir: d.optDir,
      logLevel: d.logLevel,
      timeout: d.timeoutSeconds,
    },
    {
      cacheDir: '/home/u/.cache/run-lambda',
      useCache: true,
      optDir: '/opt',
      logLevel: 'info',
      timeout: undefined,
    },
  );
  const env = {
    RUN_LAMBDA_LOG_LEVEL: 'debug',
    RUN_LAMBDA_NO_CACHE: 'true',
    RUN_LAMBDA_TIMEOUT: '5',
    RUN_LAMBDA_OPT_DIR: '/x',
  };
  const e = run(['fn', 'p.json'], env);
  assert.deepEqual([e.logLevel, e.useCache, e.timeoutSeconds, e.optDir], ['debug', false, 5, '/x']);
  const f = run(['--log-level=warn', '--timeout', '2.5', '--opt-dir', '/y', 'fn', 'p.json'], env);
  assert.deepEqual([f.logLevel, f.timeoutSeconds, f.optDir], ['warn', 2.5, '/y']);
});

test('options: the cache dir follows XDG_CACHE_HOME', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/xdg', HOME: '/h' }), '/xdg/run-lambda');
  assert.equal(run(['--cache-dir', '/c', 'fn', 'p']).cacheDir, '/c');
});

test('options: relative --opt-dir and --cache-dir are made absolute from the working directory', () => {
  const o = run(['--opt-dir', 'dist/layer', '--cache-dir', 'cache', 'fn', 'p.json']);
  assert.equal(o.optDir, resolve('dist/layer'));
  assert.equal(o.cacheDir, resolve('cache'));
});

test('options: positionals after -- may look like flags; - is a positional', () => {
  const o = run(['--', '--weird-folder', '-']);
  assert.equal(o.functionRef, '--weird-folder');
  assert.equal(o.payloadUrl, '-');
  assert.throws(() => parseArgs(['--nope', 'a', 'b'], {}), UsageError);
});

test('a <function> is local when it is a path or a .zip, a Lambda otherwise', () => {
  for (const ref of ['./fn', '../fn', '/abs/fn', '~/fn', 'code.zip', '.', 'test'])
    assert.equal(isLocalRef(ref, process.cwd()), true, ref);
  for (const ref of ['my-task', 'arn:aws:lambda:us-east-1:123456789012:function:t:live', 'task:42']) {
    assert.equal(isLocalRef(ref, process.cwd()), false, ref);
  }
});

test('default output: _out.json beside the payload (never the payload itself), stdout for data: and -', () => {
  assert.equal(defaultOutputUrl('s3://b/k.json'), 's3://b/k_out.json');
  assert.equal(defaultOutputUrl('file:///tmp/in.json'), 'file:///tmp/in_out.json');
  assert.equal(defaultOutputUrl('in/item'), 'in/item_out.json');
  assert.equal(defaultOutputUrl('data:,{}'), '-');
  assert.equal(defaultOutputUrl('-'), '-');
});

test('payload and output URLs are classified; unsupported schemes are usage errors', () => {
  assert.deepEqual(parsePayloadUrl('file:///tmp/a.json', '/'), { kind: 'file', path: '/tmp/a.json' });
  assert.deepEqual(parsePayloadUrl('rel/a.json', '/base'), { kind: 'file', path: '/base/rel/a.json' });
  assert.deepEqual(parsePayloadUrl('s3://bkt/k', '/'), { kind: 's3', url: 's3://bkt/k' });
  assert.throws(() => parsePayloadUrl('s3://bkt', '/'), /^UsageError: bad payload URL: missing object key/);
  assert.throws(() => parseOutputUrl('s3://bkt/', '/'), /^UsageError: bad output URL: missing object key/);
  assert.throws(() => parsePayloadUrl('file:///a%00b', '/'), /the path contains a NUL byte/);
  assert.throws(() => parsePayloadUrl('http://x/y', '/'), /unsupported payload URL scheme/);
  assert.deepEqual(parseOutputUrl('-', '/'), { kind: 'stdout' });
  assert.throws(() => parseOutputUrl('data:,{}', '/'), /unsupported output URL/);
});

test('data: URLs decode base64 and percent-encoding', () => {
  assert.equal(
    decodeDataUrl(`data:application/json;base64,${Buffer.from('{"é":1}').toString('base64')}`).toString(),
    '{"é":1}',
  );
  assert.equal(decodeDataUrl('data:application/json,%7B%22a%22%3A1%7D').toString(), '{"a":1}');
  assert.throws(() => decodeDataUrl('data:;base64,@@@'), /invalid base64/);
  assert.throws(() => decodeDataUrl('data:,%E0%A4%A'), /invalid percent-encoding/);
});

test('options: --external-runtime serves on 127.0.0.1:9001 and waits 600 s by default; flags and twins set both', () => {
  assert.equal(run(['fn', 'p.json']).externalRuntime, undefined);
  assert.deepEqual(run(['--external-runtime', 'fn', 'p.json']).externalRuntime, {
    host: '127.0.0.1',
    port: 9001,
    initTimeoutSeconds: 600,
  });
  const twins = {
    RUN_LAMBDA_EXTERNAL_RUNTIME: '1',
    RUN_LAMBDA_RUNTIME_API: '[::1]:9100',
    RUN_LAMBDA_INIT_TIMEOUT: '30',
  };
  assert.deepEqual(run(['fn', 'p.json'], twins).externalRuntime, {
    host: '::1',
    port: 9100,
    initTimeoutSeconds: 30,
  });
  const flags = [
    '--external-runtime',
    '--runtime-api',
    '0.0.0.0:9002',
    '--init-timeout',
    '5',
    'fn',
    'p.json',
  ];
  assert.deepEqual(run(flags, twins).externalRuntime, { host: '0.0.0.0', port: 9002, initTimeoutSeconds: 5 });
});
