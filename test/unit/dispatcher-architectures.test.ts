// Where the dispatcher sends a job by the function's architecture, without AWS: the definition of its flavour, runtime
// and architecture (an override for its key, else the stack's name under JOB_DEFINITION_PREFIX), the arm64 queue, and
// every refusal (UnsupportedRuntimeError naming the architecture) that comes before anything is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readConfig } from '../../functions/dispatcher/config.js';
import { checkFunctionImage } from '../../functions/dispatcher/function-image.js';
import { functionImageDefinition } from '../../functions/dispatcher/function-image-definition.js';
import type { TargetFunction } from '../../functions/dispatcher/functions.js';
import { chooseDefinition } from '../../functions/dispatcher/job-image.js';
import { jobQueueFor } from '../../functions/dispatcher/job-queue.js';
import type { Env } from '../../lib/env.js';

const ARN = 'arn:aws:lambda:us-west-2:123456789012:function:task';
const STACK = {
  JOB_QUEUE: 'stk-queue',
  JOB_QUEUE_ARM64: 'stk-queue-arm64',
  JOB_DEFINITION_PREFIX: 'stk',
  JOB_DEFINITION_RUNTIMES: 'lambda:python3.12 lambda:python3.13 lambda:nodejs22.x geolambda:python3.12',
};

function fn(over: Partial<TargetFunction> = {}): TargetFunction {
  return {
    arn: ARN,
    name: 'task',
    qualifier: undefined,
    jobArn: ARN,
    runtime: 'python3.13',
    packageType: 'Zip',
    architecture: 'x86_64',
    layerArns: [],
    tags: {},
    ...over,
  };
}

const definitionOf = (f: TargetFunction, env: Env = STACK, image?: 'lambda' | 'geolambda') =>
  (chooseDefinition(f, image, readConfig(env)).image as { jobDefinition: string }).jobDefinition;

// function (runtime, architecture, flavour) → definition, for a stack configured by its prefix alone
const routes: [string, Partial<TargetFunction>, 'lambda' | 'geolambda' | undefined, string][] = [
  ['python3.12 on x86_64 (the default image)', { runtime: 'python3.12' }, undefined, 'stk-lambda'],
  ['python3.12 on arm64', { runtime: 'python3.12', architecture: 'arm64' }, undefined, 'stk-lambda-arm64'],
  ['python3.13 on x86_64', {}, undefined, 'stk-lambda-python3-13'],
  ['python3.13 on arm64', { architecture: 'arm64' }, undefined, 'stk-lambda-python3-13-arm64'],
  [
    'nodejs22.x on arm64',
    { runtime: 'nodejs22.x', architecture: 'arm64' },
    undefined,
    'stk-lambda-nodejs22-x-arm64',
  ],
  [
    'geolambda python3.12 on arm64',
    { runtime: 'python3.12', architecture: 'arm64' },
    'geolambda',
    'stk-geolambda-arm64',
  ],
];

for (const [what, over, image, expected] of routes)
  test(`routing: ${what} → ${expected}`, () => {
    assert.equal(definitionOf(fn(over), STACK, image), expected);
  });

test('an override for one key wins over the prefix, for that key and architecture only', () => {
  const env = {
    ...STACK,
    JOB_DEFINITIONS: JSON.stringify({
      'lambda:python3.13:arm64': 'arn:aws:batch:us-west-2:123456789012:job-definition/mine:4',
    }),
  };
  assert.equal(
    definitionOf(fn({ architecture: 'arm64' }), env),
    'arn:aws:batch:us-west-2:123456789012:job-definition/mine:4',
  );
  assert.equal(definitionOf(fn(), env), 'stk-lambda-python3-13');
  // The python3.12 variables are x86_64 overrides: the arm64 one is still the prefix's.
  const old = {
    ...STACK,
    JOB_DEFINITION_LAMBDA: 'arn:aws:batch:us-west-2:123456789012:job-definition/stk-lambda:9',
  };
  assert.match(definitionOf(fn({ runtime: 'python3.12' }), old), /stk-lambda:9$/);
  assert.equal(definitionOf(fn({ runtime: 'python3.12', architecture: 'arm64' }), old), 'stk-lambda-arm64');
});

test('a runtime the prefix has no image of is refused on either architecture, naming the key and the architecture', () => {
  for (const architecture of ['x86_64', 'arm64'])
    assert.throws(
      () => definitionOf(fn({ runtime: 'python3.9', architecture })),
      (e: Error) =>
        e.name === 'UnsupportedRuntimeError' &&
        e.message.includes(`image lambda:python3.9 on ${architecture}`) &&
        e.message.includes('configured: '),
    );
});

test('an arm64 function with no arm64 definition (overrides only, x86_64 ones) is refused naming arm64', () => {
  const env = { JOB_QUEUE: 'q', JOB_DEFINITIONS: '{"lambda:python3.13": "mine"}' };
  assert.equal(definitionOf(fn(), env), 'mine');
  assert.throws(
    () => definitionOf(fn({ architecture: 'arm64' }), env),
    /^UnsupportedRuntimeError: no job definition for image lambda:python3\.13 on arm64 \(key lambda:python3\.13:arm64;/,
  );
});

test('queues: arm64 goes to JOB_QUEUE_ARM64, x86_64 to JOB_QUEUE, a queue the request names wins', () => {
  const config = readConfig(STACK);
  const arm = { jobArn: ARN, architecture: 'arm64' };
  assert.equal(jobQueueFor(arm, undefined, 'stk-queue', config), 'stk-queue-arm64');
  assert.equal(jobQueueFor({ ...arm, architecture: 'x86_64' }, undefined, 'stk-queue', config), 'stk-queue');
  assert.equal(jobQueueFor(arm, 'my-graviton-queue', 'my-graviton-queue', config), 'my-graviton-queue');
});

test('an arm64 function on a dispatcher without an arm64 queue is refused, saying what to do', () => {
  const config = readConfig({ ...STACK, JOB_QUEUE_ARM64: '' });
  assert.throws(
    () => jobQueueFor({ jobArn: ARN, architecture: 'arm64' }, undefined, 'stk-queue', config),
    (e: Error) =>
      e.name === 'UnsupportedRuntimeError' &&
      /built for arm64 and this dispatcher has no arm64 job queue \(JOB_QUEUE_ARM64 is unset/.test(e.message),
  );
  assert.equal(
    jobQueueFor({ jobArn: ARN, architecture: 'x86_64' }, undefined, 'stk-queue', config),
    'stk-queue',
  );
});

const IMAGE_ENV = {
  ...STACK,
  ALLOWED_IMAGE_REPOSITORIES: 'arn:aws:ecr:us-west-2:123456789012:repository/cirrus/*',
  RUNNER_IMAGE: 'cirrusgeo/run-lambda:0.1.0-provided.al2023-x86_64',
  RUNNER_IMAGE_ARM64: 'cirrusgeo/run-lambda:0.1.0-provided.al2023-arm64',
  JOB_ROLE_ARN: 'arn:aws:iam::123456789012:role/job',
  JOB_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/exec',
};

function imageFunction(architecture: string): TargetFunction {
  return fn({
    runtime: undefined,
    packageType: 'Image',
    architecture,
    image: {
      resolved: `123456789012.dkr.ecr.us-west-2.amazonaws.com/cirrus/tiler@sha256:${'b'.repeat(64)}`,
      command: undefined,
      entryPoint: undefined,
      workingDirectory: undefined,
      environment: {},
      version: '$LATEST',
      memorySize: 1024,
      architecture,
      logging: {},
    },
  });
}

test('an arm64 image function: its task on ARM64, the runner and the gate on the arm64 runner image', () => {
  const config = readConfig(IMAGE_ENV).imageFunctions!;
  const f = imageFunction('arm64');
  const image = checkFunctionImage(f, {}, config);
  const task = functionImageDefinition(f, image, {}, config).input.ecsProperties?.taskProperties?.[0];
  assert.equal(task?.runtimePlatform?.cpuArchitecture, 'ARM64');
  const byName = Object.fromEntries((task?.containers ?? []).map((c) => [c.name, c.image]));
  assert.equal(byName.runner, IMAGE_ENV.RUNNER_IMAGE_ARM64);
  assert.equal(byName.ready, IMAGE_ENV.RUNNER_IMAGE_ARM64);
  const x86 = functionImageDefinition(imageFunction('x86_64'), imageFunction('x86_64').image!, {}, config);
  assert.equal(x86.input.ecsProperties?.taskProperties?.[0]?.containers?.[0]?.image, IMAGE_ENV.RUNNER_IMAGE);
});

test('an arm64 image function without RUNNER_IMAGE_ARM64 is refused before anything is registered', () => {
  const config = readConfig({ ...IMAGE_ENV, RUNNER_IMAGE_ARM64: '' }).imageFunctions!;
  assert.throws(
    () => checkFunctionImage(imageFunction('arm64'), {}, config),
    /UnsupportedRuntimeError: .* built for arm64, and this dispatcher has no arm64 runner image \(RUNNER_IMAGE_ARM64\)/,
  );
  assert.ok(checkFunctionImage(imageFunction('x86_64'), {}, config));
});
