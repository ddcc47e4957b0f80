// A job plan on the wire (lib/job-wire.ts): written into SubmitJob's input and read back from the job it makes, for a
// single payload, an item set and an image function; and the runner reading its settings under the same names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { SubmitJobCommandInput } from '@aws-sdk/client-batch';
import {
  AWS_BATCH_JOB_ARRAY_INDEX,
  type JobPlan,
  parseJobPlan,
  RUN_LAMBDA_ITEM_COUNT,
  RUN_LAMBDA_ITEM_INDEXES,
  RUN_LAMBDA_ITEMS_PER_JOB,
  RUN_LAMBDA_JOB_TIMEOUT,
  RUN_LAMBDA_REDRIVE_OF,
} from '../../lib/job-plan.js';
import {
  type CarriedJob,
  JobSettingVariables,
  jobSettingsFromEnv,
  readItemCount,
  readJobParameters,
  readJobPlan,
  submitJobInput,
} from '../../lib/job-wire.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:task';
const single: JobPlan = {
  function: ARN,
  payload: { kind: 'single', url: 's3://bkt/batch/task/k.json' },
  output: 's3://bkt/batch/task/k_out.json',
  record: 's3://bkt/batch/task/k_out.run.json',
  name: 'task',
  queue: 'q',
  image: { kind: 'definition', flavour: 'lambda', runtime: 'python3.12', jobDefinition: 'd' },
  resources: {},
};
const set: JobPlan = {
  ...single,
  payload: { kind: 'set', url: 's3://bkt/batch/task/k/in/', itemCount: 25, itemsPerJob: 10 },
  output: 's3://bkt/batch/task/k/out/',
  record: 's3://bkt/batch/task/k/out/',
  timeout: 900,
};

/** The job Batch makes of a SubmitJob input, as a description carries it: parameters and every container's environment. */
function carried(input: SubmitJobCommandInput): CarriedJob {
  const containers = [
    input.containerOverrides ?? {},
    ...(input.ecsPropertiesOverride?.taskProperties ?? []).flatMap((t) => t.containers ?? []),
  ];
  const environment: Record<string, string> = {};
  for (const c of containers) for (const e of c.environment ?? []) environment[e.name!] = e.value!;
  return { parameters: { ...input.parameters }, environment };
}

test('a single payload, an item set and an image function are read back from their jobs as they were planned', () => {
  assert.deepEqual(readJobPlan(carried(submitJobInput(single))), {
    function: ARN,
    url: 's3://bkt/batch/task/k.json',
    output: 's3://bkt/batch/task/k_out.json',
  });
  assert.deepEqual(readJobPlan(carried(submitJobInput(set))), {
    function: ARN,
    url: 's3://bkt/batch/task/k/in/',
    output: 's3://bkt/batch/task/k/out/',
    items: { count: 25, perJob: 10 },
  });
  const imageFunction: JobPlan = {
    ...set,
    image: {
      kind: 'function-image',
      flavour: 'lambda',
      image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/f@sha256:${'a'.repeat(64)}`,
      jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/f:1',
      environment: [{ name: 'AWS_LAMBDA_LOG_STREAM_NAME', value: 'stream' }],
    },
  };
  const job = carried(submitJobInput(imageFunction));
  assert.deepEqual(readJobPlan(job).items, { count: 25, perJob: 10 });
  assert.equal(job.environment[RUN_LAMBDA_JOB_TIMEOUT], '900');
});

const JOB_ID = '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b';

test("a redrive's job: its array sized by the index list, the list and the job it redrives carried both ways", () => {
  const redrive: JobPlan = {
    ...set,
    payload: {
      kind: 'set',
      url: 's3://bkt/batch/task/k/in/',
      itemCount: 25,
      itemsPerJob: 2,
      indexes: { url: 's3://bkt/batch/task/k/in/redrive-1.json', count: 7 },
    },
    redriveOf: JOB_ID,
  };
  const input = submitJobInput(parseJobPlan(redrive));
  assert.deepEqual(
    input.arrayProperties,
    { size: 4 },
    'ceil(7 / 2) children: the list sizes the array, not the set',
  );
  const env = Object.fromEntries(input.containerOverrides!.environment!.map((e) => [e.name, e.value]));
  assert.equal(env[RUN_LAMBDA_ITEM_INDEXES], 's3://bkt/batch/task/k/in/redrive-1.json');
  assert.equal(env[RUN_LAMBDA_REDRIVE_OF], JOB_ID);
  assert.deepEqual(readJobPlan(carried(input)), {
    function: ARN,
    url: 's3://bkt/batch/task/k/in/',
    output: 's3://bkt/batch/task/k/out/',
    items: { count: 25, perJob: 2, indexes: 's3://bkt/batch/task/k/in/redrive-1.json' },
    redriveOf: JOB_ID,
  });
  assert.throws(() => readJobPlan({ parameters: {}, environment: { [RUN_LAMBDA_REDRIVE_OF]: 'job 1' } }), {
    name: 'JobWireError',
    message: /RUN_LAMBDA_REDRIVE_OF is not a Batch job id/,
  });
  for (const [bad, field] of [
    [{ ...redrive, redriveOf: 'x' }, /^redrive_of: /],
    [
      {
        ...redrive,
        payload: { ...redrive.payload, indexes: { url: 's3://bkt/elsewhere/l.json', count: 7 } },
      },
      /^item_indexes: /,
    ],
    [
      {
        ...redrive,
        payload: { ...redrive.payload, indexes: { url: 's3://bkt/batch/task/k/in/l.json', count: 26 } },
      },
      /^item_indexes: .*1 to 25/,
    ],
  ] as [JobPlan, RegExp][])
    assert.throws(() => parseJobPlan(bad), { name: 'InvalidRequestError', message: field });
});

test("a job's missing parameters are undefined; an item set's job must say how many items, 1 to 10,000", () => {
  assert.deepEqual(readJobParameters({}), { function: undefined, url: undefined, output: undefined });
  const job = (environment: Record<string, string>): CarriedJob => ({
    parameters: { url_out: 's3://b/set/out/' },
    environment,
  });
  assert.deepEqual(readJobPlan(job({ [RUN_LAMBDA_ITEM_COUNT]: '3' })).items, { count: 3, perJob: 1 });
  assert.throws(() => readJobPlan(job({})), {
    name: 'JobWireError',
    message: /no RUN_LAMBDA_ITEM_COUNT/,
  });
  for (const v of ['0', '10001', 'five', '1e3', '', ' 3'])
    assert.throws(() => readItemCount({ [RUN_LAMBDA_ITEM_COUNT]: v }), { name: 'JobWireError' }, v);
  assert.throws(() => readJobPlan(job({ [RUN_LAMBDA_ITEM_COUNT]: '3', [RUN_LAMBDA_ITEMS_PER_JOB]: '0' })), {
    message: /^RUN_LAMBDA_ITEMS_PER_JOB must be 1 to 10000, got "0"$/,
  });
  // One payload's job has no item set to read: whatever its environment holds is not read.
  assert.equal(
    readJobPlan({ parameters: { url_out: 's3://b/k_out.json' }, environment: {} }).items,
    undefined,
  );
});

test("the runner's settings from its environment, as the text the job put there; empty is unset", () => {
  assert.deepEqual(
    jobSettingsFromEnv({
      [RUN_LAMBDA_ITEM_COUNT]: '25',
      [RUN_LAMBDA_ITEMS_PER_JOB]: '10',
      [RUN_LAMBDA_JOB_TIMEOUT]: '',
      [AWS_BATCH_JOB_ARRAY_INDEX]: '2',
    }),
    { itemCount: '25', itemsPerJob: '10', arrayIndex: '2' },
  );
});

/** The built runner's exit code and last line for an item set with `env`. */
function runner(env: Record<string, string>): { status: number | null; last: string } {
  const r = spawnSync(
    process.execPath,
    ['dist/run-lambda.mjs', 'task', 's3://b/set/in/', 's3://b/set/out/'],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    },
  );
  return { status: r.status, last: (r.stdout + r.stderr).trim().split('\n').at(-1) ?? '' };
}

test('the runner reads each setting under the variable lib/job-wire.ts names (a renamed constant fails here)', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { [JobSettingVariables.itemCount]: '0' },
      /--item-count \(RUN_LAMBDA_ITEM_COUNT\) must be a whole number/,
    ],
    [
      { [JobSettingVariables.itemCount]: '4', [JobSettingVariables.itemsPerJob]: '0' },
      /--items-per-job \(RUN_LAMBDA_ITEMS_PER_JOB\) must be a whole number/,
    ],
    [
      { [JobSettingVariables.itemCount]: '4', [JobSettingVariables.jobTimeout]: 'soon' },
      /--job-timeout \(RUN_LAMBDA_JOB_TIMEOUT\) must be a positive number/,
    ],
    [
      { [JobSettingVariables.itemCount]: '4', [JobSettingVariables.arrayIndex]: '4' },
      /AWS_BATCH_JOB_ARRAY_INDEX 4 is past the end of the set/,
    ],
  ];
  for (const [env, last] of cases) {
    const r = runner(env);
    assert.equal(r.status, 2, r.last);
    assert.match(r.last, last);
  }
});
