// The run record's builder (runner/record/build.ts): what it takes from a run's facts, checked by lib/run-record.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRunRecord } from '../../lib/run-record.js';
import { FunctionError, TimeoutError } from '../../runner/errors.js';
import { buildRecord, errorPart, RECORD_MESSAGE_MAX } from '../../runner/record/build.js';

const ctx = { version: '1.2.3' };
const t0 = Date.parse('2026-01-01T00:00:00.000Z');

test('record build: a runtime that connected before the function was prepared is initialized when prepared (in order)', () => {
  const rec = buildRecord(
    { started: t0, prepared: t0 + 500, initialized: t0 + 100, payload: { url: 's3://b/k.json' } },
    { ok: false, error: new TimeoutError('the function timed out after 1 s') },
    ctx,
    t0 + 900,
  );
  assert.deepEqual(rec.timings, {
    started: '2026-01-01T00:00:00.000Z',
    prepared: '2026-01-01T00:00:00.500Z',
    initialized: '2026-01-01T00:00:00.500Z',
    finished: '2026-01-01T00:00:00.900Z',
  });
  assert.equal(rec.payload, null, 'no digest: the payload was never all read');
  assert.equal(rec.exit_code, 124);
  formatRunRecord(rec);
});

test('record build: a function error keeps its type and stack; a runner error has none; long messages are cut', () => {
  assert.deepEqual(errorPart(new FunctionError('cirrus.lib.errors.InvalidInput', 'bad', ['  File "t.py"'])), {
    errorType: 'cirrus.lib.errors.InvalidInput',
    errorMessage: 'bad',
    stackTrace: ['  File "t.py"'],
  });
  assert.equal(errorPart(new FunctionError('not a type!', 'x')).errorType, 'Error');
  const long = errorPart(new FunctionError('E', 'm'.repeat(RECORD_MESSAGE_MAX + 10)));
  assert.match(long.errorMessage, /… \(cut; 262154 characters in all\)$/);
  assert.equal(errorPart(new Error('boom')).errorType, 'RunnerInternalError');
});

test('record build: a succeeded run needs its result', () => {
  assert.throws(() => buildRecord({ started: t0 }, { ok: true }, ctx), /without a result/);
});
