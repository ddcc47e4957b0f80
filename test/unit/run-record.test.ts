import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatRunRecord,
  InvalidRunRecordError,
  parseRunErrorJson,
  parseRunRecord,
  parseRunRecordJson,
  type RunRecord,
  recordUrlFor,
} from '../../lib/run-record.js';
import { failedRecord, succeededRecord } from '../support/run-records.js';

test('the record of k_out.json is k_out.run.json; a name without .json gets .run.json appended; a set has its prefix', () => {
  assert.equal(recordUrlFor('s3://b/batch/f/k_out.json'), 's3://b/batch/f/k_out.run.json');
  assert.equal(recordUrlFor('file:///tmp/out.json'), 'file:///tmp/out.run.json');
  assert.equal(recordUrlFor('s3://b/result'), 's3://b/result.run.json');
  // An item set's record URL is its prefix (what the dispatcher answers as record_url): one record per item there.
  assert.equal(recordUrlFor('s3://b/set/out/'), 's3://b/set/out/');
});

test('a succeeded record parses with every field of the contract', () => {
  const r = parseRunRecord(succeededRecord());
  assert.equal(r.status, 'succeeded');
  assert.equal(r.exit_code, 0);
  assert.equal(r.error, undefined);
  assert.equal(r.result?.bytes, 11);
  assert.equal(r.function.runtime, 'python3.12');
  assert.equal(r.layers.length, 1);
  assert.deepEqual(r.batch, { job_id: 'job-1', attempt: 1, array_index: null });
  assert.equal(r.timings.finished, '2026-01-01T00:00:03.000Z');
});

test('a failed record carries its error; a local run has no ARN, version, code hash, batch or image runtime', () => {
  const r = parseRunRecord(
    failedRecord('cirrus.lib.errors.InvalidInput', 'no items', {
      function: {
        arn: null,
        version: null,
        runtime: 'python3.12',
        handler: 'task.handler',
        code_sha256: null,
        architecture: null,
      },
      runner: { version: '0.1.0', image_runtime: null, architecture: 'arm64' },
      batch: undefined,
    }),
  );
  assert.equal(r.status, 'failed');
  assert.deepEqual(r.error, {
    errorType: 'cirrus.lib.errors.InvalidInput',
    errorMessage: 'no items',
    stackTrace: ['  File "task.py", line 3, in handler'],
  });
  assert.equal(r.result, undefined);
  assert.equal(r.batch, undefined);
  assert.equal(r.function.arn, null);
});

test('a record that failed before it read its payload or prepared the function still parses', () => {
  const r = parseRunRecord(
    failedRecord('ChecksumMismatchError', 'code zip sha256 differs', {
      exit_code: 3,
      payload: null,
      request_id: null,
      timings: {
        started: '2026-01-01T00:00:00.000Z',
        prepared: null,
        initialized: null,
        finished: '2026-01-01T00:00:00.500Z',
      },
    }),
  );
  assert.equal(r.exit_code, 3);
  assert.equal(r.payload, null);
});

test("a redrive's record names the job it redrives; a redrive_of that is no job id is refused", () => {
  const id = '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b';
  assert.equal(parseRunRecord({ ...succeededRecord(), redrive_of: id }).redrive_of, id);
  assert.equal(parseRunRecord(succeededRecord()).redrive_of, undefined);
  assert.throws(() => parseRunRecord({ ...succeededRecord(), redrive_of: 'job 1' }, 's3://b/k.run.json'), {
    name: 'InvalidRunRecordError',
    message: 'run record s3://b/k.run.json: redrive_of must be a Batch job id, got "job 1"',
  });
});

test("a record names the function's architecture and the runner's; an earlier runner's record without them reads null", () => {
  const r = parseRunRecord(succeededRecord());
  assert.equal(r.function.architecture, 'x86_64');
  assert.equal(r.runner.architecture, 'x86_64');
  const older = succeededRecord() as unknown as {
    function: Record<string, unknown>;
    runner: Record<string, unknown>;
  };
  delete older.function.architecture;
  delete older.runner.architecture;
  const o = parseRunRecord(older);
  assert.equal(o.function.architecture, null);
  assert.equal(o.runner.architecture, null);
});

test('unknown keys of a newer runner are kept', () => {
  const r = parseRunRecord({ ...succeededRecord(), memory_peak_mib: 51 }) as RunRecord & {
    memory_peak_mib: number;
  };
  assert.equal(r.memory_peak_mib, 51);
});

const bad: [string, (r: Record<string, unknown>) => unknown, RegExp][] = [
  ['an array', () => [], /the record must be an object, got an array/],
  ['null', () => null, /the record must be an object, got null/],
  ['no status', (r) => ({ ...r, status: undefined }), /status must be "succeeded" or "failed"/],
  ['status ok', (r) => ({ ...r, status: 'ok' }), /status must be "succeeded" or "failed", got "ok"/],
  ['exit code a string', (r) => ({ ...r, exit_code: '0' }), /exit_code must be a whole number from 0 to 255/],
  ['exit code 256', (r) => ({ ...r, exit_code: 256 }), /exit_code must be a whole number/],
  ['succeeded with exit 1', (r) => ({ ...r, exit_code: 1 }), /exit_code must be 0 when succeeded/],
  ['succeeded with an error', (r) => ({ ...r, error: failedRecord('E', 'm').error }), /error must be absent/],
  ['succeeded without result', (r) => ({ ...r, result: undefined }), /result is required when succeeded/],
  [
    'result bytes negative',
    (r) => ({ ...r, result: { ...(r.result as object), bytes: -1 } }),
    /result\.bytes/,
  ],
  [
    'result sha256 upper case',
    (r) => ({ ...r, result: { ...(r.result as object), sha256: 'A'.repeat(64) } }),
    /result\.sha256 must be 64 lowercase hex/,
  ],
  [
    'result url empty',
    (r) => ({ ...r, result: { ...(r.result as object), url: '' } }),
    /result\.url must not be empty/,
  ],
  ['no request_id key', (r) => ({ ...r, request_id: undefined }), /request_id is missing/],
  ['function missing', (r) => ({ ...r, function: undefined }), /function must be an object/],
  [
    'function.handler a number',
    (r) => ({ ...r, function: { ...(r.function as object), handler: 1 } }),
    /function\.handler must be a string or null/,
  ],
  [
    'function.architecture a list',
    (r) => ({ ...r, function: { ...(r.function as object), architecture: ['arm64'] } }),
    /function\.architecture must be a string or null/,
  ],
  [
    'runner.architecture empty',
    (r) => ({ ...r, runner: { ...(r.runner as object), architecture: '' } }),
    /runner\.architecture must not be empty/,
  ],
  [
    'code sha256 short',
    (r) => ({ ...r, function: { ...(r.function as object), code_sha256: 'abc' } }),
    /function\.code_sha256/,
  ],
  ['layers an object', (r) => ({ ...r, layers: {} }), /layers must be an array/],
  [
    'layer without arn',
    (r) => ({ ...r, layers: [{ code_sha256: 'a'.repeat(64) }] }),
    /layers\[0\]\.arn is missing/,
  ],
  [
    'runner without version',
    (r) => ({ ...r, runner: { image_runtime: null } }),
    /runner\.version is missing/,
  ],
  [
    'batch attempt 0',
    (r) => ({ ...r, batch: { job_id: 'j', attempt: 0, array_index: null } }),
    /batch\.attempt must be a whole number from 1 to 10/,
  ],
  [
    'batch array index 10000',
    (r) => ({ ...r, batch: { job_id: 'j', attempt: 1, array_index: 10_000 } }),
    /batch\.array_index/,
  ],
  ['payload a string', (r) => ({ ...r, payload: 's3://b/k.json' }), /payload must be an object/],
  ['timings missing', (r) => ({ ...r, timings: undefined }), /timings must be an object/],
  [
    'started not ISO',
    (r) => ({ ...r, timings: { ...(r.timings as object), started: 'yesterday' } }),
    /timings\.started must be an ISO 8601 time/,
  ],
  [
    'finished before started',
    (r) => ({ ...r, timings: { ...(r.timings as object), finished: '2025-12-31T23:59:59Z' } }),
    /timings\.finished \(2025-12-31T23:59:59Z\) is before timings\.initialized/,
  ],
  [
    'initialized before prepared',
    (r) => ({ ...r, timings: { ...(r.timings as object), initialized: '2026-01-01T00:00:00.500Z' } }),
    /timings\.initialized .* is before timings\.prepared/,
  ],
];

for (const [what, mutate, message] of bad) {
  test(`a record with ${what} is refused with InvalidRunRecordError naming the field`, () => {
    assert.throws(
      () =>
        parseRunRecord(mutate(succeededRecord() as unknown as Record<string, unknown>), 's3://b/k.run.json'),
      (err: Error) => {
        assert.ok(err instanceof InvalidRunRecordError);
        assert.equal(err.name, 'InvalidRunRecordError');
        assert.match(err.message, /^run record s3:\/\/b\/k\.run\.json: /);
        assert.match(err.message, message);
        return true;
      },
    );
  });
}

const badFailures: [string, (r: Record<string, unknown>) => unknown, RegExp][] = [
  ['exit code 0', (r) => ({ ...r, exit_code: 0 }), /exit_code must not be 0 when failed/],
  ['no error', (r) => ({ ...r, error: undefined }), /error is required when failed/],
  ['a result too', (r) => ({ ...r, result: succeededRecord().result }), /result must be absent when failed/],
  [
    'an empty errorType',
    (r) => ({ ...r, error: { errorType: '', errorMessage: 'x', stackTrace: [] } }),
    /error\.errorType must not be empty/,
  ],
  [
    'a stackTrace string',
    (r) => ({ ...r, error: { errorType: 'E', errorMessage: 'x', stackTrace: 'at x' } }),
    /error\.stackTrace must be an array of strings/,
  ],
  [
    'no errorMessage',
    (r) => ({ ...r, error: { errorType: 'E', stackTrace: [] } }),
    /error\.errorMessage is missing/,
  ],
];

for (const [what, mutate, message] of badFailures) {
  test(`a failed record with ${what} is refused`, () => {
    assert.throws(
      () => parseRunRecord(mutate(failedRecord('ValueError', 'bad') as unknown as Record<string, unknown>)),
      (err: Error) => err instanceof InvalidRunRecordError && message.test(err.message),
    );
  });
}

test('a record text that is not JSON is refused with the place in the message', () => {
  assert.throws(() => parseRunRecordJson('{"status": "succ', 's3://b/x.run.json'), {
    name: 'InvalidRunRecordError',
    message: /^run record s3:\/\/b\/x\.run\.json: is not JSON/,
  });
  assert.equal(parseRunRecordJson(JSON.stringify(succeededRecord())).status, 'succeeded');
});

test("an item's error part parses alone, and a malformed one is refused", () => {
  const e = parseRunErrorJson('{"errorType":"ValueError","errorMessage":"bad band","stackTrace":[]}');
  assert.equal(e.errorType, 'ValueError');
  assert.throws(() => parseRunErrorJson('[]', 's3://b/o/2.error.json'), {
    name: 'InvalidRunRecordError',
    message: /s3:\/\/b\/o\/2\.error\.json: the error part must be an object/,
  });
  assert.throws(() => parseRunErrorJson('nope'), InvalidRunRecordError);
});

test('formatRunRecord writes one JSON line and refuses to write a malformed record', () => {
  const text = formatRunRecord(succeededRecord());
  assert.ok(text.endsWith('}\n'));
  assert.deepEqual(parseRunRecordJson(text), parseRunRecord(succeededRecord()));
  assert.throws(() => formatRunRecord({ ...succeededRecord(), exit_code: 2 }), InvalidRunRecordError);
});
