// The runner's own Python client behaves as Lambda's (awslambdaric) where users notice: errors of any size end
// the run, the root logger has Lambda's handler, bytes and Decimal results, built-in module names, bad handlers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fx, parseLastLine, runCli } from './helpers.js';

const fn = fx('parity-fn');
const py = (name: string, payload = 'data:,{}', extra: string[] = []) =>
  runCli(['--handler', `py.${name}`, ...extra, fn, payload, '-']);

test('python: a 2 MiB error message ends the run without --timeout: exit 1, `ValueError: …` with the message cut', {
  timeout: 10_000,
}, async () => {
  const r = await py('big_error', `data:,{"chars":${2 << 20}}`);
  assert.equal(r.code, 1, r.stderr.slice(-500));
  const { type, message } = parseLastLine(r.last);
  assert.equal(type, 'ValueError');
  assert.match(message, /^x{2000}… \(cut; 2097152 characters in all\)$/);
  assert.equal(r.stdout, '');
});

test("python: an error body over Lambda's 6 MiB limit still ends the run, with its type kept", {
  timeout: 10_000,
}, async () => {
  const r = await py('big_error', `data:,{"chars":${7 << 20}}`);
  assert.equal(r.code, 1, r.stderr.slice(-500));
  const { type, message } = parseLastLine(r.last);
  assert.equal(type, 'ValueError');
  assert.match(message, /^x+… \(cut;/);
  assert.ok(r.last.length < 2200, `last line of ${r.last.length} characters`);
});

test("python: logging is not silent: a task logger at INFO goes through the root handler in Lambda's format", async () => {
  const r = await py('logs');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '"logged"');
  const id = '[0-9a-f-]{36}';
  const stamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
  assert.match(r.stderr, new RegExp(`^\\[INFO\\]\\t${stamp}\\t${id}\\ttask started now$`, 'm'));
  assert.match(r.stderr, new RegExp(`^\\[WARNING\\]\\t${stamp}\\t${id}\\troot warning$`, 'm'));
  assert.match(r.stderr, new RegExp(`^\\[ERROR\\]\\t${stamp}\\t${id}\\tfailed with$`, 'm'));
  // Without AWS_LAMBDA_LOG_LEVEL the root logger stays at WARNING, as in Lambda.
  assert.doesNotMatch(r.stderr, /root debug/);
});

test("python: AWS_LAMBDA_LOG_LEVEL sets the root logger's level (TRACE reads as DEBUG)", async () => {
  for (const level of ['DEBUG', 'TRACE']) {
    const r = await runCli(['--handler', 'py.logs', fn, 'data:,{}', '-'], {
      env: { AWS_LAMBDA_LOG_LEVEL: level },
    });
    assert.match(r.stderr, /^\[DEBUG\]\t.*\troot debug$/m, level);
  }
  const r = await runCli(['--handler', 'py.logs', fn, 'data:,{}', '-'], {
    env: { AWS_LAMBDA_LOG_LEVEL: 'ERROR' },
  });
  assert.doesNotMatch(r.stderr, /root warning/);
  // A logger with a level of its own keeps it (the task logger is at INFO), as in Lambda.
  assert.match(r.stderr, /\ttask started now$/m);
  assert.match(r.stderr, /\tfailed with$/m);
});

test('python: a bytes result is returned as it is', async () => {
  const r = await runCli(['--handler', 'py.raw_bytes', fn, 'data:,{}', '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '\u0000\ufffdnot json');
});

test('python: Decimal results keep every digit', async () => {
  const r = await py('decimals');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '{"d": 12345678901234567890.123456789, "e": 1E+2, "i": 7}');
});

test('python: a handler module named like a built-in module is Runtime.BuiltInModuleConflict', async () => {
  const r = await runCli(['--runtime', 'python3.12', '--handler', 'sys.echo', fn, 'data:,{}', '-']);
  assert.equal(r.code, 1);
  assert.equal(r.last, 'Runtime.BuiltInModuleConflict: Cannot use built-in module sys as a handler module');
});

test("python: a handler without a dot is Runtime.MalformedHandlerName with Lambda's detail", async () => {
  const r = await runCli(['--runtime', 'python3.12', '--handler', 'nodot', fn, 'data:,{}', '-']);
  assert.equal(r.code, 1);
  assert.equal(
    r.last,
    "Runtime.MalformedHandlerName: Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
  );
});

test('python: a NaN in the result is a marshal error, never non-JSON output', async () => {
  const r = await py('nan');
  assert.equal(r.code, 1);
  assert.match(
    r.last,
    /^Runtime\.MarshalError: Unable to marshal response: Out of range float values are not JSON compliant/,
  );
  assert.equal(r.stdout, '');
});
