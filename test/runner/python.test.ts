import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fx, parseLastLine, runCli } from './helpers.js';

const fn = fx('python-fn');
const payload = fx('payload.json');
const h = (name: string) => ['--handler', `handlers.${name}`];

test('python: the default handler is found, and the result goes to the output file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'py-out-'));
  const out = join(dir, 'out.json');
  const r = await runCli([fn, payload, out]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(result.handler, 'lambda_function.lambda_handler');
  assert.deepEqual(result.event, { a: 1 });
  assert.match(r.last, /result \(\d+ bytes\) written to .*out\.json$/);
  assert.equal(r.stdout, '');
});

test('python: the handler sees a real Lambda context and environment', async () => {
  const r = await runCli([...h('context'), '--timeout', '60', fn, payload, '-']);
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.match(c.aws_request_id, /^[0-9a-f-]{36}$/);
  assert.equal(c.function_name, 'python-fn');
  assert.equal(c.function_version, '$LATEST');
  assert.match(c.invoked_function_arn, /^arn:aws:lambda:[\w-]+:\d{12}:function:python-fn$/);
  assert.match(c.memory_limit_in_mb, /^\d+$/);
  assert.equal(c.log_group_name, '/aws/lambda/python-fn');
  assert.match(c.log_stream_name, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
  assert.ok(c.remaining > 50_000 && c.remaining <= 60_000, `remaining ${c.remaining}`);
  assert.deepEqual(c.identity, { cognito_identity_id: null, cognito_identity_pool_id: null });
  assert.equal(c.client_context, null);
  assert.equal(c.tenant_id, null);
  assert.equal(c.env._HANDLER, 'handlers.context');
  assert.equal(c.env.LAMBDA_TASK_ROOT, fn);
  assert.equal(c.env.TZ, ':UTC');
  assert.equal(c.env.AWS_EXECUTION_ENV, 'AWS_Lambda_python3.12');
  assert.equal(c.env.RUN_LAMBDA_COMPAT, null);
  assert.equal(c.cwd, fn);
  assert.equal(c.sys_path0, fn);
});

test('python: without --timeout the handler sees a deadline 24 h away', async () => {
  const r = await runCli([...h('context'), fn, payload, '-']);
  const { remaining } = JSON.parse(r.stdout);
  assert.ok(remaining > 86_000_000 && remaining <= 86_400_000, `remaining ${remaining}`);
});

test('python: with --job-timeout the handler’s remaining time is the job’s end less the margin, not its own --timeout', async () => {
  const r = await runCli([...h('context'), '--job-timeout', '60', '--timeout', '3600', fn, payload, '-']);
  assert.equal(r.code, 0, r.stderr);
  const { remaining } = JSON.parse(r.stdout);
  // 60 s from the runner's start, less 10 s kept for the result and the record.
  assert.ok(remaining > 40_000 && remaining <= 50_000, `remaining ${remaining}`);
  const twin = await runCli([...h('context'), fn, payload, '-'], { env: { RUN_LAMBDA_JOB_TIMEOUT: '60' } });
  const fromEnv = JSON.parse(twin.stdout).remaining;
  assert.ok(fromEnv > 40_000 && fromEnv <= 50_000, `remaining ${fromEnv} (RUN_LAMBDA_JOB_TIMEOUT)`);
});

test('python: a handler that outlives the job’s end is ended before Batch would stop it: exit 124, JobTimeoutError, its record, no result', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'py-job-'));
  const [out, rec] = [join(dir, 'out.json'), join(dir, 'out.run.json')];
  const r = await runCli([...h('sleep'), '--job-timeout', '6', fn, 'data:,{"seconds": 30}', out]);
  assert.equal(r.code, 124, r.stderr);
  assert.match(
    r.last,
    /^JobTimeoutError: the job's time ran out \(--job-timeout 6 s, of which the last 1\.5 s .*ended$/,
  );
  assert.equal(existsSync(out), false);
  const record = JSON.parse(readFileSync(rec, 'utf8'));
  assert.deepEqual(
    [record.status, record.exit_code, record.error.errorType],
    ['failed', 124, 'JobTimeoutError'],
  );
});

test('python: --job-timeout that is not a positive number of seconds is a usage error', async () => {
  const r = await runCli([...h('echo'), fn, payload, '-'], { env: { RUN_LAMBDA_JOB_TIMEOUT: '12h' } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.last,
    /^UsageError: --job-timeout \(RUN_LAMBDA_JOB_TIMEOUT\) must be a positive number of seconds/,
  );
});

test('python: a pkg/module.func handler resolves as Lambda resolves it', async () => {
  const r = await runCli(['--handler', 'pkg/sub/mod.handler', fn, payload, '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { handler: 'pkg/sub/mod.handler' });
});

test('python: a thrown error exits 1 with `Type: message` as the last line, and writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'py-fail-'));
  const out = join(dir, 'out.json');
  const r = await runCli([...h('fail'), fn, payload, out]);
  assert.equal(r.code, 1);
  assert.deepEqual(parseLastLine(r.last), {
    type: 'TaskFailed',
    message: "could not process item-42: missing asset 'B04'",
  });
  assert.match(r.stderr, /Traceback/);
  assert.equal(existsSync(out), false);
  const r2 = await runCli([...h('value_error'), fn, payload, '-']);
  assert.equal(r2.last, 'ValueError: bad value');
});

test('python: a missing module is an init error: Runtime.ImportModuleError, exit 1', async () => {
  const r = await runCli(['--handler', 'broken_import.handler', fn, payload, '-']);
  assert.equal(r.code, 1);
  const { type, message } = parseLastLine(r.last);
  assert.equal(type, 'Runtime.ImportModuleError');
  assert.match(
    message,
    /Unable to import module 'broken_import': No module named 'module_that_does_not_exist'/,
  );
});

test('python: a missing function is an init error: Runtime.HandlerNotFound, exit 1', async () => {
  const r = await runCli([...h('no_such_function'), fn, payload, '-']);
  assert.equal(r.code, 1);
  assert.equal(r.last, "Runtime.HandlerNotFound: Handler 'no_such_function' missing on module 'handlers'");
  const r2 = await runCli([...h('not_callable'), fn, payload, '-']);
  assert.equal(parseLastLine(r2.last).type, 'Runtime.HandlerNotFound');
});

test('python: a result that is not JSON-serializable is Runtime.MarshalError; Decimals are serialized', async () => {
  const r = await runCli([...h('not_serializable'), fn, payload, '-']);
  assert.equal(r.code, 1);
  assert.match(r.last, /^Runtime\.MarshalError: Unable to marshal response: .*not JSON serializable$/);
  const d = await runCli([...h('decimals'), fn, payload, '-']);
  assert.deepEqual(JSON.parse(d.stdout), { int: 3, float: 2.5 });
});

test('python: a result over 1 MiB arrives whole; one UTF-8 cannot carry is refused before a byte of it is sent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'py-big-'));
  const out = join(dir, 'out.json');
  const r = await runCli([...h('big_unicode'), fn, payload, out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).text, 'Zürich ✓ 東京 🚀 '.repeat(150000));
  const bad = join(dir, 'bad.json');
  const s = await runCli([...h('big_lone_surrogate'), fn, payload, bad]);
  assert.equal(s.code, 1);
  assert.match(s.last, /^Runtime\.MarshalError: Unable to marshal response: .*surrogates not allowed$/);
  assert.equal(existsSync(bad), false, 'no part of the result is written');
});

test('python: a null result is written as null', async () => {
  const r = await runCli([...h('none'), fn, payload, '-']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'null');
});

test('python: unicode survives the round trip, from stdin to stdout', async () => {
  const event = { text: 'Zürich ✓ 東京 🚀', nested: ['é', '\u0000'] };
  const r = await runCli([...h('echo'), fn, '-'], { input: JSON.stringify(event) });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), event);
});

test('python: a data: payload (base64 and percent-encoded) defaults to stdout', async () => {
  const b64 = Buffer.from('{"k": "v ✓"}').toString('base64');
  const r = await runCli([...h('echo'), fn, `data:application/json;base64,${b64}`]);
  assert.deepEqual(JSON.parse(r.stdout), { k: 'v ✓' });
  const r2 = await runCli([...h('echo'), fn, `data:application/json,${encodeURIComponent('[1, "two"]')}`]);
  assert.deepEqual(JSON.parse(r2.stdout), [1, 'two']);
});

test('python: what the handler prints goes to stderr, never into the result on stdout', async () => {
  const r = await runCli([...h('prints'), fn, payload, '-']);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), { printed: true });
  assert.match(r.stderr, /this line goes to the log, not to the result/);
});

test('python: a runtime killed mid-invocation is Runtime.ExitError, exit 1, no output', async () => {
  const r = await runCli([...h('exits'), fn, payload, '-']);
  assert.equal(r.code, 1);
  assert.equal(r.last, 'Runtime.ExitError: runtime was killed with SIGKILL before it returned a result');
  assert.equal(r.stdout, '');
});

/** A cgroup v2 memory.events as the kernel keeps it, `kills` out-of-memory kills counted so far. */
function memoryEvents(kills: number) {
  const dir = mkdtempSync(join(tmpdir(), 'py-cgroup-'));
  const file = join(dir, 'memory.events');
  writeFileSync(file, `low 0\nhigh 0\nmax 7\noom 1\noom_kill ${kills}\noom_group_kill 0\n`);
  return { dir, file };
}

test('python: a runtime the OOM killer ends (its cgroup’s oom_kill count rises, then SIGKILL) is Runtime.OutOfMemory, exit 1, in its record', async () => {
  const cg = memoryEvents(2);
  const out = join(cg.dir, 'out.json');
  // The handler does what the kernel does: counts the kill in memory.events, then SIGKILLs its process.
  const event = `data:,${encodeURIComponent(JSON.stringify({ memory_events: cg.file }))}`;
  const r = await runCli([...h('out_of_memory'), '--memory-events', cg.file, fn, event, out]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.last,
    "Runtime.OutOfMemory: runtime was killed with SIGKILL by the out-of-memory killer (its cgroup's oom_kill count rose from 2 to 3) before it returned a result",
  );
  assert.equal(existsSync(out), false);
  const record = JSON.parse(readFileSync(join(cg.dir, 'out.run.json'), 'utf8'));
  assert.deepEqual(
    [record.status, record.exit_code, record.error.errorType],
    ['failed', 1, 'Runtime.OutOfMemory'],
  );
  // The env twin names the file as well.
  const twin = await runCli([...h('out_of_memory'), fn, event, '-'], {
    env: { RUN_LAMBDA_MEMORY_EVENTS: cg.file },
  });
  assert.match(twin.last, /^Runtime\.OutOfMemory: .*rose from 3 to 4\)/);
});

test('python: a SIGKILL while the cgroup counts no OOM kill stays Runtime.ExitError (and so does a cgroup file without the count)', async () => {
  const cg = memoryEvents(5);
  const r = await runCli([...h('exits'), '--memory-events', cg.file, fn, payload, '-']);
  assert.equal(r.last, 'Runtime.ExitError: runtime was killed with SIGKILL before it returned a result');
  writeFileSync(cg.file, 'low 0\n');
  const event = `data:,${encodeURIComponent(JSON.stringify({ memory_events: cg.file }))}`;
  const none = await runCli([...h('out_of_memory'), '--memory-events', cg.file, fn, event, '-']);
  assert.equal(none.last, 'Runtime.ExitError: runtime was killed with SIGKILL before it returned a result');
  const missing = await runCli([...h('exits'), '--memory-events', join(cg.dir, 'nowhere'), fn, payload, '-']);
  assert.equal(
    missing.last,
    'Runtime.ExitError: runtime was killed with SIGKILL before it returned a result',
  );
});

test('python: the default output is <payload>_out.json beside it, written only on success; the input never changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'py-default-'));
  const p = join(dir, 'item.json');
  const out = join(dir, 'item_out.json');
  writeFileSync(p, '{"n": 1}');
  const failed = await runCli([...h('fail'), fn, `file://${p}`]);
  assert.equal(failed.code, 1);
  assert.equal(existsSync(out), false);
  const ok = await runCli(['--handler', 'lambda_function.lambda_handler', fn, `file://${p}`]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).event, { n: 1 });
  assert.equal(readFileSync(p, 'utf8'), '{"n": 1}');
});

test('python: an output that names the payload itself (or a link to it) is refused before the function runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'py-same-'));
  const p = join(dir, 'item.json');
  writeFileSync(p, '{"n": 1}');
  symlinkSync(p, join(dir, 'link.json'));
  for (const target of [p, `file://${p}`, join(dir, 'link.json')]) {
    const r = await runCli([...h('side_effect'), fn, p, target], { env: { SIDE_EFFECT: join(dir, 'ran') } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.last,
      /^InvalidOutputError: the output .* is the payload itself; the input is never overwritten/,
    );
    assert.equal(readFileSync(p, 'utf8'), '{"n": 1}');
    assert.equal(existsSync(join(dir, 'ran')), false, 'the handler did not run');
  }
});

test('python: a function that rewrites the runtime client it runs in does not change what serves the next run', async () => {
  const first = await runCli([...h('tamper_client'), fn, 'data:,{}']);
  assert.equal(first.code, 0, first.stderr);
  const second = await runCli([...h('echo'), fn, 'data:,{"n":2}']);
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /INJECTED/);
  assert.deepEqual(JSON.parse(second.stdout), { n: 2 });
});

test('python: the result is serialised as Lambda does for the runtime: non-ASCII escaped up to python3.11, as is from 3.12', async () => {
  const input = JSON.stringify({ name: 'tuile — 東京', n: 1 });
  const old = await runCli([...h('echo'), '--runtime', 'python3.11', fn, '-', '-'], { input });
  assert.equal(old.code, 0, old.stderr);
  assert.equal(old.stdout, '{"name": "tuile \\u2014 \\u6771\\u4eac", "n": 1}');
  const current = await runCli([...h('echo'), '--runtime', 'python3.12', fn, '-', '-'], { input });
  assert.equal(current.code, 0, current.stderr);
  assert.equal(current.stdout, '{"name": "tuile — 東京", "n": 1}');
});
