// Extensions in <opt-dir>/extensions through Lambda's lifecycle (Extensions API document: Init, Invoke and Shutdown
// phases, failure handling), with fixture extensions of our own in Node.js, Python and shell (fixtures/extensions),
// written from the documents: one test per rule, per failure Lambda names, and per way a run ends.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunRecordJson } from '../../lib/run-record.js';
import { fx, runCli } from './helpers.js';

const FIXTURE = { node: 'node-ext.mjs', python: 'py-telemetry-ext.py', shell: 'sh-ext.sh' } as const;

/** An opt dir with extensions/<name> copies of the fixtures, a log file they write to, and a payload. */
function world(extensions: Record<string, keyof typeof FIXTURE>, event: object = { who: 'ext' }) {
  const dir = mkdtempSync(join(tmpdir(), 'ext-'));
  mkdirSync(join(dir, 'opt', 'extensions'), { recursive: true });
  for (const [name, kind] of Object.entries(extensions))
    copyFileSync(fx('extensions', FIXTURE[kind]), join(dir, 'opt', 'extensions', name));
  writeFileSync(join(dir, 'in.json'), JSON.stringify(event));
  const lines = (file: string) =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  return {
    dir,
    opt: join(dir, 'opt'),
    payload: join(dir, 'in.json'),
    out: join(dir, 'out.json'),
    env: { EXT_LOG: join(dir, 'ext.log'), FN_LOG: join(dir, 'fn.log') },
    log: (ext?: string) => lines(join(dir, 'ext.log')).filter((l) => ext === undefined || l.ext === ext),
    fnLog: () => lines(join(dir, 'fn.log')),
    record: () => parseRunRecordJson(readFileSync(join(dir, 'out.run.json'), 'utf8')),
  };
}

type World = ReturnType<typeof world>;

const run = (w: World, args: string[] = [], env: Record<string, string> = {}, out = w.out) =>
  runCli(['--opt-dir', w.opt, '--handler', 'app.handler', ...args, fx('ext-fn'), w.payload, out], {
    env: { ...w.env, ...env },
  });

const events = (w: World, ext: string) =>
  w.log(ext).flatMap((l) => (l.event ? [l.event as { eventType: string; [k: string]: unknown }] : []));

/** Whether the process runs (a zombie has ended: it waits only for init, its new parent, to reap it). */
const running = (pid: number) => {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Whether the process still runs 2 s on: the runner's SIGKILL, sent as it exits, may land just after. */
const alive = async (pid: number) => {
  for (let i = 0; i < 40 && running(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return running(pid);
};

test('extensions register before the runtime starts, see the function less what Lambda withholds, get one INVOKE and SHUTDOWN', async () => {
  const w = world({ 'node-ext': 'node', 'sh-ext': 'shell' });
  const r = await run(w);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(w.out, 'utf8'));
  const [reg] = w.log('node-ext');
  assert.equal(reg?.registered, 200);
  assert.deepEqual(reg?.answer, {
    functionName: 'ext-fn',
    functionVersion: '$LATEST',
    handler: 'app.handler',
    accountId: '000000000000',
  });
  assert.deepEqual(
    reg?.withheld,
    [],
    '_HANDLER, LAMBDA_TASK_ROOT, AWS_EXECUTION_ENV… are the runtime’s alone',
  );
  assert.equal(reg?.runtimeApi, true);
  assert.equal(reg?.functionVar, 'ext-fn');
  const [imported] = w.fnLog();
  assert.ok(
    Number(reg?.at) < Number(imported?.imported),
    'the runtime started after the extension registered',
  );
  const [invoke, shutdown] = events(w, 'node-ext');
  assert.equal(invoke?.eventType, 'INVOKE');
  assert.equal(invoke?.requestId, result.request_id);
  assert.equal(invoke?.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:ext-fn');
  assert.equal((invoke?.tracing as { type?: string } | undefined)?.type, 'X-Amzn-Trace-Id');
  assert.equal(shutdown?.eventType, 'SHUTDOWN');
  assert.equal(shutdown?.shutdownReason, 'spindown');
  // SHUTDOWN's deadline is 2,000 ms after it was sent (the extension logs when it got it).
  const got = Number(w.log('node-ext').at(-1)?.at);
  assert.ok(Number(shutdown?.deadlineMs) - got > 1500 && Number(shutdown?.deadlineMs) - got <= 2000);
  assert.deepEqual(
    events(w, 'sh-ext').map((e) => [e.eventType, e.requestId]),
    [['INVOKE', result.request_id]],
    'the shell extension registered for INVOKE only',
  );
  assert.match(r.stderr, /^sh-ext: registered as [0-9a-f-]{36}$/m, "an extension's output goes to stderr");
  assert.deepEqual(w.record().extensions, [
    { name: 'node-ext', external: true, registered: true, events: ['INVOKE', 'SHUTDOWN'] },
    { name: 'sh-ext', external: true, registered: true, events: ['INVOKE'] },
  ]);
});

test('START, END and REPORT frame the invocation on stderr, in Lambda’s text format', async () => {
  const w = world({ 'node-ext': 'node' });
  const r = await run(w);
  assert.equal(r.code, 0, r.stderr);
  const id = JSON.parse(readFileSync(w.out, 'utf8')).request_id;
  const lines = r.stderr.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const start = at(new RegExp(`^START RequestId: ${id} Version: \\$LATEST$`));
  const said = at(/^function says hello to ext$/);
  const end = at(new RegExp(`^END RequestId: ${id}$`));
  const report = at(
    new RegExp(
      `^REPORT RequestId: ${id}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: \\d+ MB\\tMax Memory Used: [1-9]\\d* MB\\tInit Duration: \\d+\\.\\d\\d ms$`,
    ),
  );
  assert.ok(start >= 0 && start < said && said < end && end < report, r.stderr);
});

test('an item set: one INVOKE per item, with each item’s request id, and one SHUTDOWN at the end', async () => {
  const w = world({ 'node-ext': 'node' });
  const set = join(w.dir, 'set');
  mkdirSync(join(set, 'in'), { recursive: true });
  mkdirSync(join(set, 'out'));
  for (let i = 0; i < 3; i++)
    writeFileSync(join(set, 'in', `${i}.json`), JSON.stringify({ who: `item ${i}` }));
  const r = await runCli(
    [
      '--opt-dir',
      w.opt,
      '--handler',
      'app.handler',
      '--item-count',
      '3',
      '--items-per-job',
      '3',
      fx('ext-fn'),
      `${set}/in/`,
      `${set}/out/`,
    ],
    { env: w.env },
  );
  assert.equal(r.code, 0, r.stderr);
  const ids = [0, 1, 2].map(
    (i) => JSON.parse(readFileSync(join(set, 'out', `${i}.json`), 'utf8')).request_id,
  );
  assert.deepEqual(
    events(w, 'node-ext').map((e) => (e.eventType === 'INVOKE' ? e.requestId : e.eventType)),
    [...ids, 'SHUTDOWN'],
  );
  assert.equal(w.log('node-ext').filter((l) => l.registered).length, 1, 'one init for the whole set');
  assert.equal((r.stderr.match(/^REPORT RequestId/gm) ?? []).length, 3);
  assert.equal((r.stderr.match(/\tInit Duration: /g) ?? []).length, 1, 'only the first REPORT has an init');
});

test('init/error fails the run with the error type the extension posted: exit 1, nothing written, the record says so', async () => {
  const w = world({ 'node-ext': 'node' });
  const r = await run(w, [], { EXT_BEHAVIOR_NODE_EXT: 'init-error' });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.last,
    'Extension.BadConfig: extension node-ext reported an error during init: the configuration names no endpoint',
  );
  assert.equal(existsSync(w.out), false);
  const rec = w.record();
  assert.equal(rec.status, 'failed');
  assert.equal(rec.error?.errorType, 'Extension.BadConfig');
  assert.deepEqual(rec.extensions, [
    {
      name: 'node-ext',
      external: true,
      registered: true,
      events: ['INVOKE', 'SHUTDOWN'],
      error_type: 'Extension.BadConfig',
    },
  ]);
  // The 202 the extension gets is test/unit/extensions-api.test.ts's: here the run may end the extension before it
  // logs the answer, as Lambda ends an environment whose init failed.
});

test('an extension that exits before init ends fails the run as Extension.Crash', async () => {
  const w = world({ 'node-ext': 'node' });
  const r = await run(w, [], { EXT_BEHAVIOR_NODE_EXT: 'crash-before-next' });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.last, 'Extension.Crash: extension node-ext exited with code 3 before init ended');
  assert.equal(existsSync(w.out), false);
  assert.equal(w.record().error?.errorType, 'Extension.Crash');
});

test('an extension that never registers fails the run as Extension.InitTimeout, and the runtime never starts', {
  timeout: 30_000,
}, async () => {
  const w = world({ 'node-ext': 'node' });
  const r = await run(w, [], { EXT_BEHAVIOR_NODE_EXT: 'never-register' });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.last,
    "Extension.InitTimeout: extension node-ext did not register within Lambda's init limit of 10 s",
  );
  assert.deepEqual(w.fnLog(), [], 'the function was never imported');
  assert.equal(w.record().status, 'failed');
});

test('more than 10 extensions fail the run as Extension.TooManyExtensions', async () => {
  const names = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`sh-${i}`, 'shell' as const]));
  const w = world(names);
  const r = await run(w);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.last, /^Extension\.TooManyExtensions: 11 extensions in /);
});

test('a hung extension cannot hold the job: the result is written, the run goes on after --extension-timeout naming it, and it is killed', async () => {
  const w = world({ 'node-ext': 'node', stubborn: 'node' });
  const r = await run(w, ['--extension-timeout', '0.5'], {
    EXT_BEHAVIOR_STUBBORN: 'hang-after-invoke',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(w.out, 'utf8')).event.who, 'ext');
  assert.match(
    r.stderr,
    /extension stubborn did not ask for its next event within 0\.5 s of the runtime's answer \(--extension-timeout\)/,
  );
  const pid = Number(w.log('stubborn')[0]?.pid);
  assert.equal(await alive(pid), false, 'killed at the end of the run');
  assert.deepEqual(
    events(w, 'node-ext').map((e) => e.eventType),
    ['INVOKE', 'SHUTDOWN'],
  );
});

test('SIGTERM during an invocation: the runtime is stopped, the extensions get SHUTDOWN, what remains is killed; exit 143', async () => {
  const w = world({ 'node-ext': 'node', stubborn: 'node' }, { sleep: 30 });
  let sent = false;
  const r = await runCli(['--opt-dir', w.opt, '--handler', 'app.handler', fx('ext-fn'), w.payload, w.out], {
    env: { ...w.env, EXT_BEHAVIOR_STUBBORN: 'ignore-shutdown' },
    onStderr: (text, child) => {
      if (!sent && text.includes('handler sleeping')) {
        sent = true;
        child.kill('SIGTERM');
      }
    },
  });
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.last, /^StoppedBySignalError: stopped by SIGTERM/);
  for (const ext of ['node-ext', 'stubborn']) {
    assert.deepEqual(
      events(w, ext).map((e) => [e.eventType, e.shutdownReason]),
      [
        ['INVOKE', undefined],
        ['SHUTDOWN', 'spindown'],
      ],
      ext,
    );
  }
  assert.equal(
    await alive(Number(w.log('stubborn')[0]?.pid)),
    false,
    'the one that ignored SHUTDOWN was killed',
  );
  assert.equal(existsSync(w.out), false);
});

test('an internal extension registers from inside the runtime: no SHUTDOWN for it, INVOKE yes, and the record says internal', async () => {
  const w = world({ 'node-ext': 'node' });
  const r = await run(w, [], { INTERNAL_EXT: '1' });
  assert.equal(r.code, 0, r.stderr);
  const fn = w.fnLog();
  assert.deepEqual(
    fn.find((l) => l.internal === 'INVOKE,SHUTDOWN'),
    {
      internal: 'INVOKE,SHUTDOWN',
      status: 403,
      refusal: {
        errorType: 'Extension.InvalidEventType',
        errorMessage: 'SHUTDOWN: ShutdownEventNotSupportedForInternalExtension',
      },
    },
  );
  assert.equal(fn.find((l) => l.internal === 'INVOKE')?.status, 200);
  const id = JSON.parse(readFileSync(w.out, 'utf8')).request_id;
  const internal = fn.find((l) => l.internal_event)?.internal_event as { requestId?: string } | undefined;
  assert.equal(internal?.requestId, id);
  assert.deepEqual(
    w.record().extensions?.map((e) => [e.name, e.external]),
    [
      ['node-ext', true],
      ['in-runtime', false],
    ],
  );
});
