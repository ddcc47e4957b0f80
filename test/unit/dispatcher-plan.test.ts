// The job plan (lib/job-plan.ts), its SubmitJob input (lib/job-wire.ts), the job definition per runtime, and the SUBMIT_RATE limiter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readConfig } from '../../functions/dispatcher/config.js';
import type { TargetFunction } from '../../functions/dispatcher/functions.js';
import { chooseDefinition } from '../../functions/dispatcher/job-image.js';
import { type Clock, createRateLimiter } from '../../functions/dispatcher/rate-limit.js';
import {
  type JobPlan,
  parseJobPlan,
  RETRY_ON_EXIT,
  RUN_LAMBDA_ITEM_COUNT,
  RUN_LAMBDA_ITEMS_PER_JOB,
  RUN_LAMBDA_JOB_TIMEOUT,
} from '../../lib/job-plan.js';
import { submitJobInput } from '../../lib/job-wire.js';
import { recordUrlFor } from '../../lib/run-record.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:task';

function plan(over: Partial<JobPlan> = {}): JobPlan {
  return {
    function: ARN,
    payload: { kind: 'single', url: 's3://bkt/batch/task/k.json' },
    output: 's3://bkt/batch/task/k_out.json',
    record: 's3://bkt/batch/task/k_out.run.json',
    name: 'task',
    queue: 'q',
    image: { kind: 'definition', flavour: 'lambda', runtime: 'python3.12', jobDefinition: 'd' },
    resources: {},
    ...over,
  };
}

const set = (n: number, k: number) =>
  plan({
    payload: { kind: 'set', url: 's3://bkt/batch/task/k/in/', itemCount: n, itemsPerJob: k },
    output: 's3://bkt/batch/task/k/out/',
    record: 's3://bkt/batch/task/k/out/',
  });

test('SubmitJob input carries resources, timeout (Batch’s, and the runner’s RUN_LAMBDA_JOB_TIMEOUT) and a retry strategy that never retries exit 1-3', () => {
  const input = submitJobInput(
    plan({ resources: { vcpus: 0.5, memory: 1024, gpus: 1 }, timeout: 600, attempts: 3 }),
  );
  assert.deepEqual(input.parameters, {
    lambda_function: ARN,
    url: 's3://bkt/batch/task/k.json',
    url_out: 's3://bkt/batch/task/k_out.json',
  });
  assert.deepEqual(input.containerOverrides, {
    resourceRequirements: [
      { type: 'VCPU', value: '0.5' },
      { type: 'MEMORY', value: '1024' },
      { type: 'GPU', value: '1' },
    ],
    environment: [{ name: RUN_LAMBDA_JOB_TIMEOUT, value: '600' }],
  });
  assert.deepEqual(input.timeout, { attemptDurationSeconds: 600 });
  assert.equal(input.retryStrategy?.attempts, 3);
  assert.deepEqual(input.retryStrategy?.evaluateOnExit, RETRY_ON_EXIT);
  const bare = submitJobInput(plan({ resources: { gpus: 0 } }));
  assert.deepEqual(Object.keys(bare).sort(), ['jobDefinition', 'jobName', 'jobQueue', 'parameters']);
});

test('an item set is one array job of ceil(n/k) children with the item count and size in its environment', () => {
  const input = submitJobInput(set(1000, 10));
  assert.deepEqual(input.arrayProperties, { size: 100 });
  assert.deepEqual(input.containerOverrides?.environment, [
    { name: RUN_LAMBDA_ITEM_COUNT, value: '1000' },
    { name: RUN_LAMBDA_ITEMS_PER_JOB, value: '10' },
  ]);
  assert.equal(input.parameters?.url, 's3://bkt/batch/task/k/in/');
  assert.equal(input.parameters?.url_out, 's3://bkt/batch/task/k/out/');
  assert.deepEqual(submitJobInput(set(1001, 10)).arrayProperties, { size: 101 });
  // One child's worth is a plain job (Batch arrays have 2 to 10,000 children), still read as a set.
  const one = submitJobInput(set(7, 10));
  assert.equal(one.arrayProperties, undefined);
  assert.equal(one.containerOverrides?.environment?.[0]?.value, '7');
  assert.deepEqual(submitJobInput(set(10_000, 1)).arrayProperties, { size: 10_000 });
});

test('the run record sits beside the result (.json → .run.json); a set has its records under the out/ prefix', () => {
  assert.equal(recordUrlFor('s3://b/batch/f/id_out.json'), 's3://b/batch/f/id_out.run.json');
  assert.equal(recordUrlFor('s3://b/result'), 's3://b/result.run.json');
  assert.equal(recordUrlFor('s3://b/batch/f/id/out/'), 's3://b/batch/f/id/out/');
});

// Each: a change to a good plan and the field its InvalidRequestError names.
const badPlans: [string, Partial<JobPlan>, string][] = [
  [
    'a set url without /',
    { payload: { kind: 'set', url: 's3://b/k/in', itemCount: 2, itemsPerJob: 1 } },
    'url',
  ],
  ['a single url with /', { payload: { kind: 'single', url: 's3://b/k/' } }, 'url'],
  ['a url of another scheme', { payload: { kind: 'single', url: 'https://x/k.json' } }, 'url'],
  [
    'zero items',
    { ...set(1, 1), payload: { kind: 'set', url: 's3://bkt/k/in/', itemCount: 0, itemsPerJob: 1 } },
    'payloads',
  ],
  [
    '10,001 items',
    { ...set(1, 1), payload: { kind: 'set', url: 's3://bkt/k/in/', itemCount: 10_001, itemsPerJob: 1 } },
    'payloads',
  ],
  [
    'fractional items per job',
    { ...set(1, 1), payload: { kind: 'set', url: 's3://bkt/k/in/', itemCount: 5, itemsPerJob: 1.5 } },
    'items_per_job',
  ],
  [
    'a set output without /',
    { ...set(2, 1), output: 's3://b/k/out', record: 's3://b/k/out.run.json' },
    'url_out',
  ],
  ['a record elsewhere', { record: 's3://b/other.run.json' }, 'url_out'],
  ['a bad job name', { name: 'task:$LATEST' }, 'name'],
  ['a bare function name', { function: 'task' }, 'lambda_function'],
];

for (const [what, change, field] of badPlans) {
  test(`a plan with ${what} is refused naming ${field}`, () => {
    assert.throws(
      () => parseJobPlan(plan(change)),
      (err: Error) => {
        assert.equal(err.name, 'InvalidRequestError');
        assert.ok(err.message.startsWith(`${field}: `), err.message);
        return true;
      },
    );
  });
}

function fn(runtime: string | undefined, over: Partial<TargetFunction> = {}): TargetFunction {
  return {
    arn: ARN,
    name: 'task',
    qualifier: undefined,
    jobArn: ARN,
    runtime,
    packageType: runtime ? 'Zip' : 'Image',
    architecture: 'x86_64',
    layerArns: [],
    tags: {},
    ...over,
  };
}

test("the function's runtime picks the image's job definition; CIRRUS_STACK prefixes a bare one", () => {
  const config = readConfig({
    JOB_DEFINITION_LAMBDA: 'run-lambda',
    JOB_DEFINITION_GEOLAMBDA: 'run-geolambda',
    JOB_DEFINITIONS: JSON.stringify({
      'lambda:python3.13': 'lambda-py313',
      'geolambda:python3.13': 'geo-py313',
    }),
    CIRRUS_STACK: 'stk',
  });
  assert.deepEqual(chooseDefinition(fn('python3.13'), undefined, config).image, {
    kind: 'definition',
    flavour: 'lambda',
    runtime: 'python3.13',
    jobDefinition: 'stk-lambda-py313',
  });
  assert.equal(
    chooseDefinition(fn('python3.12'), 'geolambda', config).image.jobDefinition,
    'stk-run-geolambda',
  );
  const geoLayer = { layerArns: ['arn:aws:lambda:us-east-1:1:layer:gdal:3'] };
  assert.equal(
    chooseDefinition(fn('python3.13', geoLayer), undefined, config).image.jobDefinition,
    'stk-geo-py313',
  );
});

test('a runtime without a job definition is UnsupportedRuntimeError naming it and the configured ones', () => {
  const config = readConfig({
    JOB_DEFINITION_LAMBDA: 'run-lambda',
    JOB_DEFINITION_GEOLAMBDA: 'run-geolambda',
  });
  assert.throws(() => chooseDefinition(fn('nodejs22.x'), undefined, config), {
    name: 'UnsupportedRuntimeError',
    message:
      /no job definition for image lambda:nodejs22\.x .*configured: geolambda:python3\.12, lambda:python3\.12$/,
  });
  assert.throws(() => chooseDefinition(fn(undefined), undefined, config), {
    name: 'UnsupportedRuntimeError',
    message: /has no runtime \(PackageType Image\)/,
  });
});

/** A virtual clock: sleeping advances time at once, so rates are checked without waiting. */
function virtualClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

test('the rate limiter grants at most N calls in any one-second window, in the order asked', async () => {
  const clock = virtualClock();
  const limiter = createRateLimiter(20, clock);
  const grants: [number, number][] = [];
  await Promise.all(
    Array.from({ length: 75 }, (_, i) => limiter.take().then(() => grants.push([i, clock.now()]))),
  );
  assert.deepEqual(
    grants.map(([i]) => i),
    Array.from({ length: 75 }, (_, i) => i),
  );
  const times = grants.map(([, t]) => t);
  for (let i = 20; i < times.length; i++) assert.ok(times[i]! - times[i - 20]! >= 1000, `call ${i}`);
  // A burst of up to N goes at once, and the limiter does not wait longer than it must.
  assert.equal(times[19], 0);
  assert.equal(times[74], 3000);
});
