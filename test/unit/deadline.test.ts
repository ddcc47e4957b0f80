// An invocation's deadline (runner/runtime/deadline.ts): the sooner of its own --timeout and the job's end less the
// room kept for the result and the record; neither means the far deadline handlers see and nothing enforced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  invocationDeadline,
  JOB_END_MARGIN_MS,
  jobClock,
  jobEndMargin,
  jobOverMessage,
  NO_TIMEOUT_DEADLINE_MS,
} from '../../runner/runtime/deadline.js';

const T0 = 1_700_000_000_000;

test('deadline: the job’s end is its start plus its timeout, less the margin (10 s, a quarter of a short job)', () => {
  assert.equal(JOB_END_MARGIN_MS, 10_000);
  assert.deepEqual(jobClock(T0, 3600), { seconds: 3600, endMs: T0 + 3_590_000, marginMs: 10_000 });
  assert.equal(jobEndMargin(60), 10_000, 'Batch’s shortest attempt (60 s) keeps the full margin');
  assert.equal(jobEndMargin(8), 2000, 'a local 8 s job keeps a quarter');
  assert.equal(jobEndMargin(0.4), 100);
});

test('deadline: the job’s end is sooner than the invocation’s own timeout → the job’s', () => {
  const job = jobClock(T0, 600);
  // An item that starts 500 s into the job with a 300 s timeout may run only to 590 s.
  assert.deepEqual(invocationDeadline(T0 + 500_000, 300, job), { ms: T0 + 590_000, by: 'job' });
  assert.deepEqual(invocationDeadline(T0, undefined, job), { ms: T0 + 590_000, by: 'job' }, 'no own timeout');
});

test('deadline: the invocation’s own timeout is sooner → its own', () => {
  const job = jobClock(T0, 600);
  assert.deepEqual(invocationDeadline(T0 + 10_000, 60, job), { ms: T0 + 70_000, by: 'invocation' });
  assert.deepEqual(
    invocationDeadline(T0 + 290_000, 300, job),
    { ms: T0 + 590_000, by: 'invocation' },
    'a tie is the invocation’s own (its timeout’s words)',
  );
  assert.deepEqual(invocationDeadline(T0, 60, undefined), { ms: T0 + 60_000, by: 'invocation' });
});

test('deadline: neither → 24 h away, not enforced', () => {
  assert.deepEqual(invocationDeadline(T0, undefined, undefined), {
    ms: T0 + NO_TIMEOUT_DEADLINE_MS,
    by: 'none',
  });
});

test('deadline: a job already past its end gives a deadline in the past (the session then starts nothing)', () => {
  const job = jobClock(T0, 60);
  const d = invocationDeadline(T0 + 55_000, 30, job);
  assert.deepEqual(d, { ms: T0 + 50_000, by: 'job' });
  assert.match(jobOverMessage(job, false), /--job-timeout 60 s, of which the last 10 s .*no time was left/);
});
