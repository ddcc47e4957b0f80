// Run records as docs/runner.md "Run records" defines them, made by hand for the tests of their readers (post-batch).
import { createHash } from 'node:crypto';
import type { RunRecord } from '../../lib/run-record.js';

export const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

const CODE_SHA = sha256('code');

function base(): Omit<RunRecord, 'status' | 'exit_code'> {
  return {
    request_id: '8f7c0e1a-0000-4000-8000-000000000001',
    function: {
      arn: 'arn:aws:lambda:us-east-1:123456789012:function:task',
      version: '$LATEST',
      runtime: 'python3.12',
      handler: 'lambda_function.lambda_handler',
      code_sha256: CODE_SHA,
      architecture: 'x86_64',
    },
    layers: [{ arn: 'arn:aws:lambda:us-east-1:123456789012:layer:numpy:3', code_sha256: sha256('layer') }],
    runner: { version: '0.1.0', image_runtime: 'python3.12', architecture: 'x86_64' },
    batch: { job_id: 'job-1', attempt: 1, array_index: null },
    payload: { url: 's3://b/batch/task/k.json', bytes: 2, sha256: sha256('{}') },
    timings: {
      started: '2026-01-01T00:00:00.000Z',
      prepared: '2026-01-01T00:00:01.000Z',
      initialized: '2026-01-01T00:00:02.000Z',
      finished: '2026-01-01T00:00:03.000Z',
    },
  };
}

/** A succeeded record whose result is `resultText` at `resultUrl`. */
export function succeededRecord(
  over: Partial<RunRecord> = {},
  resultText = '{"ok":true}',
  resultUrl = 's3://b/batch/task/k_out.json',
): RunRecord {
  return {
    ...base(),
    status: 'succeeded',
    exit_code: 0,
    result: { url: resultUrl, bytes: Buffer.byteLength(resultText), sha256: sha256(resultText) },
    ...over,
  };
}

/** A failed record with the given error (exit code 1 unless `over` says otherwise). */
export function failedRecord(
  errorType: string,
  errorMessage: string,
  over: Partial<RunRecord> = {},
): RunRecord {
  return {
    ...base(),
    status: 'failed',
    exit_code: 1,
    error: { errorType, errorMessage, stackTrace: ['  File "task.py", line 3, in handler'] },
    ...over,
  };
}
