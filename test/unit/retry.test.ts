import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answeredStatus,
  isAnsweredRetryable,
  isThrottling,
  isTransient,
  isUnanswered,
  sendOrFind,
  withRetries,
} from '../../lib/retry.js';

const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    ...extra,
  });
const sysError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${code}: it failed`), { code, ...extra });

const cases: [string, unknown, boolean][] = [
  ['a 500 InternalError', sdkError('InternalError', 500), true],
  ['a 503 SlowDown', sdkError('SlowDown', 503), true],
  ['throttling by name without a status', sdkError('ThrottlingException'), true],
  ['a 429', sdkError('TooManyRequestsException', 429), true],
  ['an SDK socket timeout', sdkError('TimeoutError'), true],
  ['a reset connection', sysError('ECONNRESET'), true],
  ['a refused connection', sysError('ECONNREFUSED'), true],
  ['a body cut short', sysError('ERR_STREAM_PREMATURE_CLOSE'), true],
  ['a cut connection only told by its message', new Error('aborted'), true],
  ['a transient cause inside a wrapper', new Error('wrapped', { cause: sysError('ETIMEDOUT') }), true],
  ['a missing object', sdkError('NoSuchKey', 404), false],
  ['access denied', sdkError('AccessDenied', 403), false],
  ['a plain HTTP 404 of a download', sdkError('HttpStatusError', 404), false],
  ['an abort', sdkError('AbortError'), false],
  ['our own full disk', sysError('ENOSPC', { path: '/tmp/x', syscall: 'write' }), false],
  ['a non-error value', 'boom', false],
  ['an error that is nothing known', new Error('something else'), false],
];

for (const [what, err, expected] of cases) {
  test(`isTransient: ${what} is ${expected ? '' : 'not '}worth another try`, () => {
    assert.equal(isTransient(err), expected);
  });
}

test('withRetries tries until it succeeds, telling each retry, and returns the value', async () => {
  const told: number[] = [];
  let calls = 0;
  const value = await withRetries(
    async () => {
      calls += 1;
      if (calls < 3) throw sdkError('SlowDown', 503);
      return 'done';
    },
    { attempts: 3, baseDelayMs: 1, onRetry: (_e, attempt) => told.push(attempt) },
  );
  assert.equal(value, 'done');
  assert.equal(calls, 3);
  assert.deepEqual(told, [1, 2]);
});

test('withRetries throws the last error once the attempts are used up', async () => {
  let calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        calls += 1;
        throw sdkError('InternalError', 500, { attempt: calls });
      },
      { attempts: 2, baseDelayMs: 1 },
    ),
    (err: Error & { attempt?: number }) => err.attempt === 2,
  );
  assert.equal(calls, 2);
});

test('withRetries does not retry an error that is not transient', async () => {
  let calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        calls += 1;
        throw sdkError('NoSuchKey', 404);
      },
      { attempts: 5, baseDelayMs: 1 },
    ),
    /NoSuchKey/,
  );
  assert.equal(calls, 1);
});

test('withRetries stops waiting when aborted and throws the error it had', async () => {
  const controller = new AbortController();
  let calls = 0;
  const running = withRetries(
    async () => {
      calls += 1;
      throw sdkError('SlowDown', 503);
    },
    { attempts: 5, baseDelayMs: 60_000, signal: controller.signal },
  );
  setImmediate(() => controller.abort());
  await assert.rejects(running, /SlowDown/);
  assert.equal(calls, 1);
});

test('withRetries delays grow exponentially, half fixed and half random, up to the cap', async () => {
  const delays: number[] = [];
  await assert.rejects(
    withRetries(
      async () => {
        throw sdkError('SlowDown', 503);
      },
      {
        attempts: 5,
        baseDelayMs: 2,
        maxDelayMs: 8,
        random: () => 1 - Number.EPSILON,
        onRetry: (_e, _a, d) => delays.push(d),
      },
    ),
  );
  assert.deepEqual(delays, [2, 4, 8, 8]);
});

const answered = (status: number, name = 'Error') =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

test('calls that must not be sent twice are retried only on an answer that may change: a 5xx or throttling', () => {
  assert.equal(isAnsweredRetryable(answered(500, 'ServerException')), true);
  assert.equal(isAnsweredRetryable(answered(503)), true);
  assert.equal(isAnsweredRetryable(answered(429, 'TooManyRequestsException')), true);
  assert.equal(isAnsweredRetryable(answered(400, 'ClientException')), false);
  assert.equal(isAnsweredRetryable(answered(403, 'AccessDeniedException')), false);
  // No answer (a cut connection, a timeout): the call may have taken effect, so it is looked up, not resent.
  assert.equal(
    isAnsweredRetryable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    false,
  );
  assert.equal(answeredStatus(new Error('no metadata')), undefined);
  assert.equal(isThrottling(answered(400, 'ThrottlingException')), true);
  assert.equal(isThrottling(answered(400, 'ValidationException')), false);
});

test('withRetries takes its waits from delayMs and spends them with sleep; retryable sees the attempt', async () => {
  const slept: number[] = [];
  const seen: number[] = [];
  await assert.rejects(
    withRetries(
      async () => {
        throw answered(503);
      },
      {
        attempts: 10,
        baseDelayMs: 1,
        retryable: (_e, attempt) => {
          seen.push(attempt);
          return attempt < 3;
        },
        delayMs: (attempt) => attempt * 100,
        sleep: async (ms) => {
          slept.push(ms);
        },
      },
    ),
    /Error/,
  );
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(slept, [100, 200]);
});

const lost = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

test('sendOrFind: a lost answer is looked up and what it made is the outcome; it is never sent again', async () => {
  let sends = 0;
  const outcome = await sendOrFind(
    async () => {
      sends++;
      throw lost();
    },
    async () => 'job-1',
  );
  assert.deepEqual(outcome, { how: 'found', value: 'job-1' });
  assert.equal(sends, 1);
  assert.deepEqual(
    await sendOrFind(
      async () => 'job-2',
      async () => 'never',
    ),
    { how: 'sent', value: 'job-2' },
  );
});

test('sendOrFind: an answered refusal is thrown without a lookup; a lost answer that finds nothing is thrown as it was', async () => {
  let lookups = 0;
  const find = async () => {
    lookups++;
    return undefined;
  };
  await assert.rejects(
    sendOrFind(async () => {
      throw answered(400, 'ClientException');
    }, find),
    { name: 'ClientException' },
  );
  assert.equal(lookups, 0);
  await assert.rejects(
    sendOrFind(async () => {
      throw lost();
    }, find),
    /socket hang up/,
  );
  assert.equal(lookups, 1);
  // A failing lookup is as good as none: the send's own error is what the caller judges.
  await assert.rejects(
    sendOrFind(
      async () => {
        throw lost();
      },
      async () => {
        throw new Error('ListJobs failed too');
      },
    ),
    /socket hang up/,
  );
  // A caller may call more failures uncertain (a 5xx for a registration held under its lock).
  let found = await sendOrFind(
    async () => {
      throw answered(503);
    },
    async () => 'def:1',
    (e) => isUnanswered(e) || isAnsweredRetryable(e),
  );
  assert.deepEqual(found, { how: 'found', value: 'def:1' });
  found = await sendOrFind(async () => 'def:2', find);
  assert.equal(found.how, 'sent');
});

test('withRetries over sendOrFind: an answered 5xx is sent again, a lost answer never is', async () => {
  const sent: string[] = [];
  const answers = [answered(503), lost()];
  await assert.rejects(
    withRetries(
      () =>
        sendOrFind(
          async () => {
            const a = answers.shift()!;
            sent.push(a.message);
            throw a;
          },
          async () => undefined,
        ),
      { attempts: 5, baseDelayMs: 0, retryable: isAnsweredRetryable, sleep: async () => {} },
    ),
    /socket hang up/,
  );
  assert.deepEqual(sent, ['Error', 'socket hang up']);
});
