// The Telemetry API and the Logs API, with a fixture extension in Python (fixtures/extensions/py-telemetry-ext.py) that
// subscribes with a destination of http://sandbox.localdomain:<port> and logs every batch it is sent: what each API's
// subscriber receives (Telemetry API Event schema reference; Logs API, Log messages), and when.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fx, runCli } from './helpers.js';

interface Event {
  time: string;
  type: string;
  record: Record<string, unknown> | string;
}

/** Runs ext-fn with the telemetry extension (and the shell one), `env` its settings; what its listener got. */
async function subscribed(env: Record<string, string>, args: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-'));
  mkdirSync(join(dir, 'opt', 'extensions'), { recursive: true });
  copyFileSync(fx('extensions', 'py-telemetry-ext.py'), join(dir, 'opt', 'extensions', 'py-telemetry-ext'));
  copyFileSync(fx('extensions', 'sh-ext.sh'), join(dir, 'opt', 'extensions', 'sh-ext'));
  writeFileSync(join(dir, 'in.json'), '{"who": "telemetry"}');
  const r = await runCli(
    [
      '--opt-dir',
      join(dir, 'opt'),
      '--handler',
      'app.handler',
      ...args,
      fx('ext-fn'),
      join(dir, 'in.json'),
      '-',
    ],
    { env: { EXT_LOG: join(dir, 'ext.log'), ...env } },
  );
  const log = readFileSync(join(dir, 'ext.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const batches = log.flatMap((l) => (l.batch ? [l.batch as Event[]] : []));
  return {
    r,
    log,
    batches,
    events: batches.flat(),
    answer: log.find((l) => l.subscribed !== undefined) as { subscribed: number; answer: string },
    requestId: r.code === 0 ? (JSON.parse(r.stdout).request_id as string) : '',
  };
}

test('a Telemetry API subscriber gets the platform events in order, the function’s and the extensions’ lines, all before SHUTDOWN', async () => {
  const t = await subscribed({});
  assert.equal(t.r.code, 0, t.r.stderr);
  assert.deepEqual([t.answer.subscribed, t.answer.answer], [200, '"OK"']);
  const platform = t.events.filter((e) => e.type.startsWith('platform.')).map((e) => e.type);
  assert.equal(platform[0], 'platform.initStart');
  assert.equal(platform.filter((type) => type === 'platform.extension').length, 2, 'one per extension');
  const order = ['initRuntimeDone', 'initReport', 'start', 'runtimeDone', 'report'].map((n) =>
    platform.indexOf(`platform.${n}`),
  );
  assert.ok(
    order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] as number))),
    platform.join(', '),
  );
  const one = (type: string) => t.events.find((e) => e.type === type)?.record as Record<string, unknown>;
  assert.deepEqual(one('platform.initStart'), { initializationType: 'on-demand', phase: 'init' });
  assert.deepEqual(one('platform.telemetrySubscription'), {
    name: 'py-telemetry-ext',
    state: 'Subscribed',
    types: ['platform', 'function', 'extension'],
  });
  assert.equal(one('platform.initRuntimeDone').status, 'success');
  assert.ok(Number((one('platform.initReport').metrics as { durationMs: number }).durationMs) > 0);
  assert.equal(one('platform.start').requestId, t.requestId);
  assert.equal(one('platform.start').version, '$LATEST');
  const done = one('platform.runtimeDone');
  assert.equal(done.status, 'success');
  assert.equal((done.metrics as { producedBytes: number }).producedBytes, Buffer.byteLength(t.r.stdout));
  const report = one('platform.report');
  assert.equal(report.requestId, t.requestId);
  const m = report.metrics as Record<string, number>;
  assert.deepEqual(Object.keys(m).sort(), [
    'billedDurationMs',
    'durationMs',
    'initDurationMs',
    'maxMemoryUsedMB',
    'memorySizeMB',
  ]);
  assert.equal(m.billedDurationMs, Math.ceil(m.durationMs as number));
  assert.ok((m.maxMemoryUsedMB as number) > 0);
  assert.ok(t.events.some((e) => e.type === 'function' && e.record === 'function says hello to telemetry'));
  assert.ok(
    t.events.some(
      (e) => e.type === 'extension' && /^sh-ext: event \{"eventType":"INVOKE"/.test(String(e.record)),
    ),
  );
  for (const e of t.events) assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  // The final flush reaches the listener before the extension is told to shut down.
  const reportAt = t.log.findIndex((l) =>
    (l.batch as Event[] | undefined)?.some((e) => e.type === 'platform.report'),
  );
  const shutdownAt = t.log.findIndex((l) => l.shutdown);
  assert.ok(reportAt >= 0 && reportAt < shutdownAt);
});

test('a subscriber gets only the types it asked for', async () => {
  const t = await subscribed({ TELEMETRY_TYPES: 'function' });
  assert.equal(t.r.code, 0, t.r.stderr);
  assert.deepEqual([...new Set(t.events.map((e) => e.type))], ['function']);
});

test('a Logs API subscriber (schema 2021-03-18) gets platform.start, runtimeDone, end and report, and the logs', async () => {
  const t = await subscribed({ TELEMETRY_API: 'logs' });
  assert.equal(t.r.code, 0, t.r.stderr);
  assert.equal(t.answer.subscribed, 200);
  const types = t.events.filter((e) => e.type.startsWith('platform.')).map((e) => e.type);
  for (const type of [
    'platform.logsSubscription',
    'platform.start',
    'platform.runtimeDone',
    'platform.end',
    'platform.report',
  ])
    assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
  assert.ok(!types.includes('platform.initStart'), 'the Logs API has no init events');
  const done = t.events.find((e) => e.type === 'platform.runtimeDone')?.record;
  assert.deepEqual(done, { requestId: t.requestId, status: 'success' });
  const report = t.events.find((e) => e.type === 'platform.report')?.record as {
    metrics: Record<string, number>;
  };
  assert.equal(report.metrics.billedDurationMs, Math.ceil(report.metrics.durationMs as number));
  assert.ok(t.events.some((e) => e.type === 'function'));
});

test('buffering outside Lambda’s limits is refused with a 400 that says which; the run goes on', async () => {
  const t = await subscribed({ TELEMETRY_BUFFERING: '{"maxItems": 50}' });
  assert.equal(t.r.code, 0, t.r.stderr);
  assert.equal(t.answer.subscribed, 400);
  assert.deepEqual(JSON.parse(t.answer.answer), {
    errorType: 'ValidationError',
    errorMessage: 'buffering.maxItems must be a whole number from 1,000 to 10,000, got 50',
  });
  assert.deepEqual(t.batches, []);
});

test('with the JSON log format, START and REPORT are platform records on stderr and a function’s JSON line is sent as an object', async () => {
  const t = await subscribed({ AWS_LAMBDA_LOG_FORMAT: 'JSON', TELEMETRY_TYPES: 'function' });
  assert.equal(t.r.code, 0, t.r.stderr);
  const lines = t.r.stderr.split('\n').filter((l) => l.startsWith('{"time"'));
  const records = lines.map((l) => JSON.parse(l) as Event);
  assert.deepEqual(
    records.map((e) => e.type),
    ['platform.start', 'platform.report'],
    'runtimeDone is a DEBUG record: not at the default system log level INFO',
  );
  assert.deepEqual(records[0]?.record, { requestId: t.requestId, version: '$LATEST' });
  assert.equal((records[1]?.record as { status?: string } | undefined)?.status, 'success');
  assert.ok(!/^(START|END|REPORT) RequestId/m.test(t.r.stderr));
  const said = t.events.find(
    (e) => typeof e.record === 'object' && (e.record as { message?: string }).message,
  );
  assert.ok(said, JSON.stringify(t.events));
});
