import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_MAX_INLINE_RESULT, readConfig } from '../../functions/post-batch/config.js';
import { InvalidEventError, namedError } from '../../functions/post-batch/errors.js';
import { parseEvent } from '../../functions/post-batch/event.js';
import { itemCount } from '../../functions/post-batch/items.js';
import { isSameJob, type JobView, jobView } from '../../functions/post-batch/job.js';
import { failureWithoutRecord, StatusReasonNames } from '../../functions/post-batch/reasons.js';
import { ConfigError } from '../../lib/env.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/step-functions/${name}`, import.meta.url), 'utf8'));

function asJob(event: unknown): JobView {
  const input = parseEvent(event);
  assert.equal(input.kind, 'job');
  return (input as { job: JobView }).job;
}

test("batch:submitJob.sync's output (PascalCase) is read as the job: id, status, url_out, environment, exit code", () => {
  const job = asJob(fixture('submit-job-sync-succeeded.json'));
  assert.equal(job.jobId, '3c1e2b7a-1111-4a2b-9c3d-5e6f7a8b9c0d');
  assert.equal(job.status, 'SUCCEEDED');
  assert.equal(job.parameters.url_out, 's3://payloads/batch/my-task/0f8e_out.json');
  assert.equal(job.environment.MANAGED_BY_AWS, 'STARTED_BY_STEP_FUNCTIONS');
  assert.equal(job.exitCode, 0);
  assert.equal(job.attempts.length, 1);
});

test('a caught States.TaskFailed is read as the job in its Cause (a JSON string), with the exit code of its attempt', () => {
  const job = asJob(fixture('submit-job-sync-failed-caught.json'));
  assert.equal(job.status, 'FAILED');
  assert.equal(job.attempts[0]?.exitCode, 1);
  assert.equal(job.parameters.url_out, 's3://payloads/batch/my-task/0f8e_out.json');
});

test('the caught error alone ({Error, Cause}, Catch output $) is read the same way', () => {
  const job = asJob(fixture('submit-job-sync-failed-caught.json').error);
  assert.equal(job.jobId, '7d2f3c8b-2222-4b3c-8d4e-6f7a8b9c0d1e');
});

test('a caught SubmitJob refusal is passed on under its own name with its Cause as the message', () => {
  const input = parseEvent(fixture('submit-job-throttled-caught.json'));
  assert.equal(input.kind, 'error');
  const { error } = input as { error: Error };
  assert.equal(error.name, 'Batch.AWSBatchException');
  assert.match(error.message, /^Too Many Requests \(Service: AWSBatch; Status Code: 429/);
});

test("a caught Lambda error's Cause ({errorMessage, errorType}) gives its errorMessage; a missing Cause says so", () => {
  const input = parseEvent({
    error: {
      Error: 'States.Timeout',
      Cause: JSON.stringify({ errorMessage: 'took too long', errorType: 'X' }),
    },
  });
  assert.equal((input as { error: Error }).error.name, 'States.Timeout');
  assert.equal((input as { error: Error }).error.message, 'took too long');
  const bare = parseEvent({ Error: 'States.HeartbeatTimeout', Cause: null });
  assert.equal((bare as { error: Error }).error.message, 'no cause given');
});

test("DescribeJobs' camelCase job and Step Functions' PascalCase copy are read alike", () => {
  const pascal = fixture('submit-job-sync-succeeded.json');
  const camel = camelCased(pascal);
  assert.equal(camel.jobId, pascal.JobId);
  assert.deepEqual(jobView(camel), jobView(pascal));
});

test('{job_id} and a dispatcher answer are read as a job id to describe', () => {
  assert.deepEqual(parseEvent({ job_id: 'abc' }), { kind: 'job_id', jobId: 'abc' });
  assert.deepEqual(parseEvent({ job_id: 'abc', job_name: 'my-task', url_out: 's3://b/k_out.json' }), {
    kind: 'job_id',
    jobId: 'abc',
  });
});

const badEvents: [string, unknown, RegExp][] = [
  ['null', null, /the event must be a JSON object, got null/],
  ['an array', [{ job_id: 'a' }], /got an array/],
  ['a string', 'abc', /got string/],
  ['an empty object', {}, /got an empty object/],
  ['unrelated keys', { url: 's3://b/k.json', payload: { secret: 1 } }, /got keys url, payload$/],
  ['a numeric job_id', { job_id: 42 }, /job_id: must be a non-empty string, got 42/],
  ['an empty job_id', { job_id: '  ' }, /job_id: must be a non-empty string/],
  ['a caught error without a name', { error: { Cause: 'x' } }, /error\.Error: must be the caught error name/],
];

for (const [what, event, message] of badEvents) {
  test(`an event that is ${what} is refused with InvalidEventError`, () => {
    assert.throws(
      () => parseEvent(event),
      (err: Error) => {
        assert.ok(err instanceof InvalidEventError);
        assert.equal(err.name, 'InvalidEventError');
        assert.match(err.message, message);
        assert.ok(!err.message.includes('secret'), 'values of the event stay out of the message');
        return true;
      },
    );
  });
}

test('an ECS-properties job (image functions) gives its containers’ environment and the non-zero exit code', () => {
  const job = jobView({
    jobId: 'j',
    status: 'FAILED',
    parameters: { url_out: 's3://b/o/' },
    ecsProperties: {
      taskProperties: [
        {
          containers: [
            { name: 'function', environment: [{ name: 'AWS_LAMBDA_RUNTIME_API', value: '127.0.0.1:9001' }] },
            { name: 'run-lambda', environment: [{ name: 'RUN_LAMBDA_ITEM_COUNT', value: '3' }], exitCode: 0 },
          ],
        },
      ],
    },
    attempts: [
      {
        taskProperties: [
          { containers: [{ exitCode: 0 }, { exitCode: 137, reason: 'OutOfMemoryError: Container killed' }] },
        ],
      },
    ],
  })!;
  assert.equal(job.environment.RUN_LAMBDA_ITEM_COUNT, '3');
  assert.equal(itemCount(job), 3);
  assert.equal(job.attempts[0]?.exitCode, 137);
  assert.equal(failureWithoutRecord(job).name, 'OutOfMemoryError');
});

test('a record belongs to the job itself or to one of its array children, not to another job', () => {
  const job = jobView({ jobId: 'abc' })!;
  assert.ok(isSameJob(job, 'abc'));
  assert.ok(isSameJob(job, 'abc:17'));
  assert.ok(!isSameJob(job, 'abcd'));
  assert.ok(!isSameJob(job, 'other'));
});

function failedJob(over: Record<string, unknown>): JobView {
  return jobView({ jobId: 'j-1', jobName: 'my-task', status: 'FAILED', ...over })!;
}

const reasons: [string, Record<string, unknown>, string][] = [
  [
    'an image that cannot be pulled',
    {
      statusReason: 'Task failed to start',
      attempts: [
        {
          statusReason: 'Task failed to start',
          container: { reason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)' },
        },
      ],
    },
    'CannotPullContainerError',
  ],
  [
    'secrets or registry auth that cannot be fetched',
    {
      attempts: [
        { container: { reason: 'ResourceInitializationError: unable to pull secrets or registry auth' } },
      ],
    },
    'ResourceInitializationError',
  ],
  ['a lost EC2 host', { statusReason: 'Host EC2 (instance i-0abc123) terminated.' }, 'HostTerminatedError'],
  [
    'a Spot interruption',
    { attempts: [{ statusReason: 'Your Spot Task was interrupted.' }] },
    'SpotInterruptedError',
  ],
  [
    'an attempt timeout (SIGKILL before any record)',
    { statusReason: 'Job attempt duration exceeded timeout' },
    'JobTimeoutError',
  ],
  ['a task that never started', { statusReason: 'Task failed to start' }, 'TaskFailedToStartError'],
  ['a failed dependency', { statusReason: 'Dependent Job failed' }, 'DependencyFailedError'],
  [
    'an exit without a record',
    { statusReason: 'Essential container in task exited', container: { exitCode: 137 } },
    'ContainerExitedError',
  ],
  ['a cancellation', { statusReason: 'Cancelled by the operator' }, 'JobFailedError'],
  ['no reason at all', {}, 'JobFailedError'],
];

for (const [what, over, name] of reasons) {
  test(`a job without a record after ${what} fails as ${name}`, () => {
    const err = failureWithoutRecord(failedJob(over));
    assert.equal(err.name, name);
    assert.notEqual(err.name, 'UnknownError');
    assert.match(err.message, /^job j-1 \(my-task\) failed without a run record; /);
  });
}

test("the status-reason error's message carries every reason and the exit code, each once", () => {
  const err = failureWithoutRecord(
    failedJob({
      statusReason: 'Essential container in task exited',
      attempts: [
        {
          statusReason: 'Essential container in task exited',
          container: { exitCode: 139, reason: 'segfault' },
        },
      ],
    }),
  );
  assert.equal(
    err.message,
    'job j-1 (my-task) failed without a run record; status reason: Essential container in task exited; container: segfault; exit code 139',
  );
  assert.match(failureWithoutRecord(failedJob({})).message, /Batch gave no reason$/);
});

test('every status-reason rule matches its own documented example', () => {
  for (const { name, pattern, example } of StatusReasonNames) {
    const err = failureWithoutRecord(failedJob({ attempts: [{ container: { reason: example } }] }));
    assert.match(example, pattern);
    assert.equal(err.name, name === '$1' ? example.split(':')[0] : name);
  }
});

test('a named error keeps its name (what the Node runtime reports as errorType) and the function’s own trace', () => {
  const err = namedError('cirrus.lib.errors.InvalidInput', 'no items', [
    '  File "task.py", line 3, in handler\n',
  ]);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'cirrus.lib.errors.InvalidInput');
  assert.equal(err.message, 'no items');
  assert.equal(err.stack, 'cirrus.lib.errors.InvalidInput: no items\n  File "task.py", line 3, in handler');
  assert.equal(String(err), 'cirrus.lib.errors.InvalidInput: no items');
});

test('config: MAX_INLINE_RESULT defaults to 120,000 characters; 0 is allowed; more than 256 KiB or not a number is refused', () => {
  assert.equal(readConfig({}).maxInlineResult, DEFAULT_MAX_INLINE_RESULT);
  assert.equal(DEFAULT_MAX_INLINE_RESULT, 120_000);
  assert.equal(readConfig({ MAX_INLINE_RESULT: '0' }).maxInlineResult, 0);
  assert.throws(() => readConfig({ MAX_INLINE_RESULT: '300000' }), {
    name: 'ConfigError',
    message: /at most 262144/,
  });
  assert.throws(() => readConfig({ MAX_INLINE_RESULT: '12k' }), ConfigError);
  assert.throws(() => readConfig({ MAX_INLINE_RESULT: '-1' }), ConfigError);
});

test('an item set job must say how many items it has, from 1 to 10,000', () => {
  const job = (v?: string) =>
    jobView({
      jobId: 'j',
      container: { environment: v === undefined ? [] : [{ name: 'RUN_LAMBDA_ITEM_COUNT', value: v }] },
    })!;
  assert.equal(itemCount(job('5')), 5);
  for (const v of [undefined, '0', '10001', 'five', '1e3', ''])
    assert.throws(() => itemCount(job(v)), { name: 'InvalidJobError' }, String(v));
});

/** The SDK's shape of a Step Functions job description (keys camelCased back, map keys left alone). */
function camelCased(v: unknown, inMap = false): Record<string, unknown> {
  if (Array.isArray(v)) return v.map((x) => camelCased(x)) as unknown as Record<string, unknown>;
  if (typeof v !== 'object' || v === null) return v as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => {
      const key = inMap ? k : k[0]!.toLowerCase() + k.slice(1);
      return [key, inMap ? x : camelCased(x, key === 'parameters' || key === 'tags')];
    }),
  );
}
