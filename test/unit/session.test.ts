// The serving half of the runner (runner/runtime/session.ts) over real HTTP on loopback, with a stand-in host and
// timers the test fires itself (no sleeps): deadlines, a lost runtime and a fresh one, an event never taken, and the
// external runtime's wait for its first request.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  FunctionError,
  JobTimeoutError,
  RuntimeNotAvailableError,
  TimeoutError,
} from '../../runner/errors.js';
import { createLogger } from '../../runner/log.js';
import { jobClock } from '../../runner/runtime/deadline.js';
import { externalRuntime } from '../../runner/runtime/external.js';
import type { RuntimeHost, RuntimeLoss } from '../../runner/runtime/host.js';
import { openSession } from '../../runner/runtime/session.js';
import { startRuntimeApi } from '../../runner/runtime-api/server.js';
import { call } from '../support/runtime-api-client.js';

const dir = mkdtempSync(join(tmpdir(), 'session-'));
const log = createLogger('silent');
let n = 0;

function offer(event: string) {
  n += 1;
  return {
    openEvent: async () => ({ stream: Readable.from([Buffer.from(event)]), size: Buffer.byteLength(event) }),
    resultPath: join(dir, `r${n}.json`),
  };
}

/** A host the test drives: counts what the session asks of it; `lose` ends the current runtime. */
function standInHost() {
  let lose!: (loss: RuntimeLoss) => void;
  let lost = new Promise<RuntimeLoss>((r) => {
    lose = r;
  });
  const calls = { ready: 0, kill: 0, discard: 0 };
  const host: RuntimeHost & {
    calls: typeof calls;
    lose(why: string, errorType?: RuntimeLoss['errorType']): void;
  } = {
    label: 'stand-in',
    calls,
    async ready() {
      calls.ready += 1;
    },
    lost: () => lost,
    kill() {
      calls.kill += 1;
    },
    async stop() {},
    discard() {
      calls.discard += 1;
      lost = new Promise<RuntimeLoss>((r) => {
        lose = r;
      });
    },
    end() {},
    pid: () => undefined,
    lose: (why, errorType = 'Runtime.ExitError') => lose({ reason: why, errorType }),
  };
  return host;
}

/** Timers the test fires by hand. */
function manualTimers() {
  const armed: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  return {
    armed,
    setTimer(fn: () => void, ms: number) {
      const t = { fn, ms, cancelled: false };
      armed.push(t);
      return () => {
        t.cancelled = true;
      };
    },
    fireAll() {
      for (const t of armed.splice(0)) if (!t.cancelled) t.fn();
    },
  };
}

const nextOf = async (api: Parameters<typeof call>[0]) => {
  const r = await call(api, 'GET', '/invocation/next');
  return {
    id: String(r.headers['lambda-runtime-aws-request-id']),
    body: r.body,
    deadline: r.headers['lambda-runtime-deadline-ms'],
  };
};

test('session: two invocations in a row on one runtime, each with its own request id, deadline and result', async () => {
  const api = await startRuntimeApi();
  const host = standInHost();
  let clock = 1_000_000;
  const session = openSession({ api, host, invokedFunctionArn: 'arn:f', log, now: () => clock });
  const first = session.serve({ ...offer('{"i":0}'), timeoutSeconds: 5 });
  const a = await nextOf(api);
  assert.equal(a.body, '{"i":0}');
  assert.equal(a.deadline, String(1_000_000 + 5000));
  assert.equal(session.initializedAt(), 1_000_000, "the runtime's first request");
  await call(api, 'POST', `/invocation/${a.id}/response`, '"zero"');
  const r0 = await first;
  assert.equal(r0.requestId, a.id);
  assert.deepEqual(r0.stored, {
    bytes: 6,
    crc32: crc32('"zero"'),
    sha256: createHash('sha256').update('"zero"').digest('hex'),
  });
  clock += 10;
  const second = session.serve(offer('{"i":1}'));
  const b = await nextOf(api);
  assert.notEqual(b.id, a.id);
  await call(api, 'POST', `/invocation/${b.id}/response`, '"one"');
  assert.equal((await second).bytes, 5);
  assert.equal(readFileSync(join(dir, `r${n}.json`), 'utf8'), '"one"');
  assert.deepEqual(host.calls, { ready: 2, kill: 0, discard: 0 }, 'one runtime served both');
  assert.equal(session.lastRequestId(), b.id);
  await api.close();
});

test('session: the deadline kills the runtime, fails that invocation with TimeoutError, and the next one gets a fresh runtime', async () => {
  const api = await startRuntimeApi();
  const host = standInHost();
  const timers = manualTimers();
  const session = openSession({ api, host, invokedFunctionArn: 'arn:f', log, setTimer: timers.setTimer });
  const slow = session.serve({ ...offer('{"slow":true}'), timeoutSeconds: 2 });
  const taken = await nextOf(api);
  timers.fireAll();
  await assert.rejects(
    slow,
    (err: Error) => err instanceof TimeoutError && /timed out after 2 s/.test(err.message),
  );
  assert.equal(host.calls.kill, 1);
  assert.equal(host.calls.discard, 1, 'the runtime that held it is ended');
  // The old runtime's late answer is refused: its invocation is over.
  assert.equal((await call(api, 'POST', `/invocation/${taken.id}/response`, '"late"')).status, 403);
  const next = session.serve(offer('{"i":2}'));
  const c = await nextOf(api);
  assert.equal(c.body, '{"i":2}');
  await call(api, 'POST', `/invocation/${c.id}/response`, '"ok"');
  assert.equal((await next).bytes, 4);
  await api.close();
});

test('session: the job’s end, sooner than the invocation’s timeout, is the deadline the runtime sees and the one enforced (JobTimeoutError, exit 124)', async () => {
  const api = await startRuntimeApi();
  const host = standInHost();
  const timers = manualTimers();
  let clock = 2_000_000;
  const job = jobClock(clock, 100); // invocations must end by 2_000_000 + 90_000
  const session = openSession({
    api,
    host,
    invokedFunctionArn: 'arn:f',
    log,
    now: () => clock,
    setTimer: timers.setTimer,
    job,
  });
  clock += 60_000;
  const late = session.serve({ ...offer('{"late":true}'), timeoutSeconds: 300 });
  const a = await nextOf(api);
  assert.equal(a.deadline, String(2_090_000), 'the job’s end less its margin, not 300 s away');
  assert.equal(timers.armed[0]?.ms, 30_000);
  timers.fireAll();
  await assert.rejects(late, (err: Error) => {
    assert.ok(err instanceof JobTimeoutError);
    assert.equal(err.exitCode, 124);
    assert.match(err.message, /^the job's time ran out \(--job-timeout 100 s, .*the invocation was ended$/);
    return true;
  });
  assert.equal(host.calls.kill, 1);
  // Past the job's end nothing more is offered: the runtime is not asked for.
  clock += 30_000;
  const ready = host.calls.ready;
  await assert.rejects(session.serve(offer('{}')), /no time was left to start the invocation/);
  assert.equal(host.calls.ready, ready + 1);
  assert.equal(api.phase === 'invoking', false);
  await api.close();
});

test('session: an invocation timeout sooner than the job’s end stays a TimeoutError of its own', async () => {
  const api = await startRuntimeApi();
  const host = standInHost();
  const timers = manualTimers();
  const clock = 3_000_000;
  const session = openSession({
    api,
    host,
    invokedFunctionArn: 'arn:f',
    log,
    now: () => clock,
    setTimer: timers.setTimer,
    job: jobClock(clock, 3600),
  });
  const served = session.serve({ ...offer('{}'), timeoutSeconds: 5 });
  const a = await nextOf(api);
  assert.equal(a.deadline, String(3_005_000));
  timers.fireAll();
  await assert.rejects(
    served,
    (err: Error) => err instanceof TimeoutError && !(err instanceof JobTimeoutError),
  );
  await api.close();
});

test('session: a runtime that goes away mid-invocation fails it with Runtime.ExitError; the next invocation starts a new one', async () => {
  const api = await startRuntimeApi();
  const host = standInHost();
  const session = openSession({ api, host, invokedFunctionArn: 'arn:f', log, retryUntaken: true });
  const crashing = session.serve(offer('{"crash":true}'));
  await nextOf(api);
  host.lose('runtime exited with code 137');
  await assert.rejects(crashing, (err: Error) => {
    assert.ok(err instanceof FunctionError);
    assert.equal(err.name, 'Runtime.ExitError');
    assert.equal(err.message, 'runtime exited with code 137 before it returned a result');
    return true;
  });
  assert.equal(host.calls.discard, 1);
  const after = session.serve(offer('{"i":3}'));
  const d = await nextOf(api);
  await call(api, 'POST', `/invocation/${d.id}/response`, '3');
  assert.equal((await after).bytes, 1);
  assert.equal(host.calls.ready, 2);
  await api.close();
});

test('session: an invocation whose runtime went away before taking the event is offered once more to a fresh runtime', async () => {
  const api = await startRuntimeApi();
  const host = standInHost();
  const session = openSession({ api, host, invokedFunctionArn: 'arn:f', log, retryUntaken: true });
  const served = session.serve(offer('{"i":4}'));
  // Gone between two items, before asking for this one.
  await new Promise((r) => setImmediate(r));
  host.lose('runtime exited with code 0');
  const e = await nextOf(api);
  assert.equal(e.body, '{"i":4}');
  await call(api, 'POST', `/invocation/${e.id}/response`, '4');
  assert.equal((await served).bytes, 1);
  assert.equal(host.calls.ready, 2, 'a fresh runtime was asked for');
  await api.close();
});

test('session: without retryUntaken (a single run), a runtime gone before the event fails the run as it is', async () => {
  const api = await startRuntimeApi();
  const host = standInHost();
  const session = openSession({ api, host, invokedFunctionArn: 'arn:f', log });
  const served = session.serve(offer('{}'));
  await new Promise((r) => setImmediate(r));
  host.lose('runtime exited with code 2');
  await assert.rejects(served, /runtime exited with code 2 before it returned a result/);
  assert.equal(host.calls.ready, 1);
  await api.close();
});

test('external runtime: ready waits for its first request; none within the init timeout is RuntimeNotAvailableError (exit 3)', async () => {
  const api = await startRuntimeApi();
  const timers = manualTimers();
  const host = externalRuntime({
    address: api.address,
    connected: () => api.connected(),
    initTimeoutSeconds: 600,
    log,
    setTimer: timers.setTimer,
  });
  const waiting = host.ready();
  assert.equal(timers.armed[0]?.ms, 600_000);
  timers.fireAll();
  await assert.rejects(waiting, (err: Error) => {
    assert.ok(err instanceof RuntimeNotAvailableError);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, new RegExp(`at ${api.address} within 600 s \\(--init-timeout\\)`));
    return true;
  });
  // One that asks in time is served.
  const timers2 = manualTimers();
  const host2 = externalRuntime({
    address: api.address,
    connected: () => api.connected(),
    initTimeoutSeconds: 1,
    log,
    setTimer: timers2.setTimer,
  });
  const session = openSession({ api, host: host2, invokedFunctionArn: 'arn:f', log });
  const served = session.serve(offer('{"ext":1}'));
  const f = await nextOf(api);
  assert.equal(timers2.armed[0]?.cancelled, true, 'the wait ended at the first request');
  await call(api, 'POST', `/invocation/${f.id}/response`, '{}');
  assert.equal((await served).bytes, 2);
  await api.close();
});

test('external runtime: where its process cannot be found (no shared PID namespace), that is said once and invocations are served as before', async () => {
  const api = await startRuntimeApi();
  const lines: string[] = [];
  const warnLog = createLogger('warn', (l) => lines.push(l));
  // A /proc with no process and no connection in it: what a runner in a PID namespace of its own sees of the runtime.
  const root = mkdtempSync(join(tmpdir(), 'no-proc-'));
  const host = externalRuntime({
    address: api.address,
    connected: () => api.connected(),
    onNext: (hook) => api.onNext(hook),
    initTimeoutSeconds: 60,
    log: warnLog,
    proc: { root },
  });
  const session = openSession({ api, host, invokedFunctionArn: 'arn:f', log: warnLog, retryUntaken: true });
  for (const i of [0, 1]) {
    const served = session.serve(offer(`{"i":${i}}`));
    const a = await nextOf(api);
    await call(api, 'POST', `/invocation/${a.id}/response`, `${i}`);
    assert.equal((await served).bytes, 1);
  }
  assert.equal(lines.length, 1, lines.join(''));
  assert.match(
    lines[0] ?? '',
    /^run-lambda: warning: cannot tell which process is the function's runtime \(its connection \(port \d+ to \d+\) is not in .*\/net\/tcp\): one that dies will be seen only at the deadline; its job needs one PID namespace for the task \(pidMode task\)\n$/,
  );
  host.end();
  await api.close();
});
