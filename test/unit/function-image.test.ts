// Image functions without AWS: the checks before anything is written, the function container's environment, the
// two-container job definition (name, containers, rules, spec hash), its settings, and the SubmitJob overrides.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ImageFunctionConfig, readImageFunctionConfig } from '../../functions/dispatcher/config.js';
import {
  checkFunctionImage,
  ecrRepositoryArn,
  functionEnvironment,
} from '../../functions/dispatcher/function-image.js';
import {
  definitionName,
  functionImageDefinition,
  READY_SCRIPT,
  SPEC_PARAMETER,
} from '../../functions/dispatcher/function-image-definition.js';
import type { FunctionImage, TargetFunction } from '../../functions/dispatcher/functions.js';
import {
  EXTERNAL_RUNTIME_API,
  type JobPlan,
  parseJobPlan,
  RETRY_ON_EXIT,
  RUN_LAMBDA_ITEM_COUNT,
  RUN_LAMBDA_JOB_TIMEOUT,
} from '../../lib/job-plan.js';
import { submitJobInput } from '../../lib/job-wire.js';

const ARN = 'arn:aws:lambda:us-west-2:123456789012:function:tiler';
const DIGEST = 'a'.repeat(64);
const IMAGE = `123456789012.dkr.ecr.us-west-2.amazonaws.com/cirrus/tiler@sha256:${DIGEST}`;
const REPO = 'arn:aws:ecr:us-west-2:123456789012:repository/cirrus/tiler';

const SETTINGS_ENV = {
  ALLOWED_IMAGE_REPOSITORIES: 'arn:aws:ecr:us-west-2:123456789012:repository/cirrus/*',
  RUNNER_IMAGE: 'cirrusgeo/run-lambda:0.1.0-provided.al2023',
  JOB_ROLE_ARN: 'arn:aws:iam::123456789012:role/job',
  JOB_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/exec',
  IMAGE_DEFINITION_PREFIX: 'stk-fn',
  LOG_LEVEL: 'debug',
};
const settings = (over: Record<string, string> = {}): ImageFunctionConfig =>
  readImageFunctionConfig({ ...SETTINGS_ENV, ...over }) as ImageFunctionConfig;

function image(over: Partial<FunctionImage> = {}): FunctionImage {
  return {
    resolved: IMAGE,
    command: ['app.handler'],
    entryPoint: undefined,
    workingDirectory: undefined,
    environment: { STAGE: 'prod' },
    version: '$LATEST',
    memorySize: 1024,
    architecture: 'x86_64',
    logging: {},
    ...over,
  };
}

function fn(over: Partial<FunctionImage> = {}): TargetFunction {
  return {
    arn: ARN,
    name: 'tiler',
    qualifier: undefined,
    jobArn: ARN,
    runtime: undefined,
    packageType: 'Image',
    architecture: over.architecture ?? 'x86_64',
    layerArns: [],
    tags: {},
    image: image(over),
  };
}

test('an ECR image by digest names its repository ARN; anything else names none', () => {
  assert.equal(ecrRepositoryArn(IMAGE, 'aws'), REPO);
  assert.equal(
    ecrRepositoryArn(`123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/x@sha256:${DIGEST}`, 'aws-cn'),
    'arn:aws-cn:ecr:cn-north-1:123456789012:repository/x',
  );
  assert.equal(
    ecrRepositoryArn(`123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/x@sha256:${DIGEST}`, 'aws'),
    'arn:aws:ecr:us-east-1:123456789012:repository/x',
  );
  for (const other of [
    `123456789012.dkr.ecr.us-west-2.amazonaws.com/cirrus/tiler:latest`,
    `docker.io/library/python@sha256:${DIGEST}`,
    `public.ecr.aws/lambda/python@sha256:${DIGEST}`,
  ])
    assert.equal(ecrRepositoryArn(other, 'aws'), undefined, other);
});

test('the definition is named from the prefix, the function and the digest, and never passes 128 characters', () => {
  assert.equal(definitionName('stk-fn', 'tiler', DIGEST), `stk-fn-tiler-${'a'.repeat(12)}`);
  const long = 'f'.repeat(64);
  const name = definitionName('p'.repeat(64), long, DIGEST);
  assert.equal(name.length, 128);
  assert.match(name, /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/);
  assert.notEqual(name, definitionName('p'.repeat(64), `${'f'.repeat(63)}g`, DIGEST), 'cut names stay apart');
});

const refusals: [string, () => unknown, string, RegExp][] = [
  [
    'image functions off (no ALLOWED_IMAGE_REPOSITORIES)',
    () => checkFunctionImage(fn(), {}, undefined),
    'UnsupportedRuntimeError',
    /image functions are off: ALLOWED_IMAGE_REPOSITORIES is unset/,
  ],
  [
    'jobs on EC2 (two containers share 127.0.0.1 on Fargate only)',
    () => checkFunctionImage(fn(), {}, settings({ JOB_PLATFORM: 'EC2' })),
    'UnsupportedRuntimeError',
    /Fargate only; this dispatcher's jobs run on EC2/,
  ],
  [
    'an image outside the allowed repositories',
    () =>
      checkFunctionImage(
        fn(),
        {},
        settings({ ALLOWED_IMAGE_REPOSITORIES: 'arn:aws:ecr:*:*:repository/other-*' }),
      ),
    'FunctionNotAllowedError',
    /cirrus\/tiler\) is not allowed by ALLOWED_IMAGE_REPOSITORIES/,
  ],
  [
    'an image of another account',
    () =>
      checkFunctionImage(
        fn({ resolved: `999999999999.dkr.ecr.us-west-2.amazonaws.com/cirrus/tiler@sha256:${DIGEST}` }),
        {},
        settings(),
      ),
    'FunctionNotAllowedError',
    /is not allowed by ALLOWED_IMAGE_REPOSITORIES/,
  ],
  [
    'an image that is not ECR by digest',
    () => checkFunctionImage(fn({ resolved: 'cirrus/tiler:latest' }), {}, settings()),
    'FunctionNotAllowedError',
    /is not an ECR image by digest/,
  ],
  [
    'the geolambda image asked for',
    () => checkFunctionImage(fn(), { image: 'geolambda' }, settings()),
    'InvalidRequestError',
    /^image: geolambda does not apply/,
  ],
  [
    'GPUs asked for',
    () => checkFunctionImage(fn(), { gpus: 1 }, settings()),
    'InvalidRequestError',
    /^gpus: image functions run on Fargate/,
  ],
  [
    'an ImageConfig.EntryPoint (a Batch container keeps its image entrypoint)',
    () => checkFunctionImage(fn({ entryPoint: ['/bin/sh', '-c'] }), {}, settings()),
    'UnsupportedRuntimeError',
    /ImageConfig.EntryPoint \["\/bin\/sh","-c"\]: a Batch job's container runs its image's own ENTRYPOINT/,
  ],
  [
    'an ImageConfig.WorkingDirectory',
    () => checkFunctionImage(fn({ workingDirectory: '/srv' }), {}, settings()),
    'UnsupportedRuntimeError',
    /WorkingDirectory "\/srv": a Batch job definition cannot set a container's working directory/,
  ],
  [
    'an AWS_BATCH_ variable (Batch reserves them)',
    () =>
      functionEnvironment(
        fn({ environment: { AWS_BATCH_X: '1' } }),
        image({ environment: { AWS_BATCH_X: '1' } }),
      ),
    'UnsupportedRuntimeError',
    /"AWS_BATCH_X" of function .* Batch reserves names/,
  ],
  [
    'a NUL byte in a value (named, not shown)',
    () => functionEnvironment(fn(), image({ environment: { SECRET: 'a\0b' } })),
    'UnsupportedRuntimeError',
    /"SECRET" .*its value holds a NUL byte/,
  ],
];
for (const [name, call, type, message] of refusals) {
  test(`refused before anything is written: ${name}`, () => {
    assert.throws(call, (err: Error) => {
      assert.equal(err.name, type);
      assert.match(err.message, message);
      assert.ok(!err.message.includes('a\0b'), 'a value never appears');
      return true;
    });
  });
}

test('allowed: the image of a repository the globs match, with lambda or no image asked for', () => {
  assert.equal(checkFunctionImage(fn(), {}, settings()).resolved, IMAGE);
  assert.equal(checkFunctionImage(fn(), { image: 'lambda', gpus: 0 }, settings()).resolved, IMAGE);
});

test("the function container gets its own variables and Lambda's reserved ones, as the runner gives them to zip functions", () => {
  const { environment, dropped } = functionEnvironment(
    fn(),
    image({
      environment: {
        STAGE: 'prod',
        AWS_REGION: 'eu-west-1',
        RUN_LAMBDA_COMPAT: 'cirrus-v0',
        TZ: 'Europe/Paris',
      },
      version: '7',
      logging: { format: 'JSON', logGroup: '/custom/tiler' },
    }),
  );
  assert.deepEqual(dropped, ['RUN_LAMBDA_COMPAT']);
  assert.deepEqual(environment, {
    STAGE: 'prod',
    TZ: 'Europe/Paris',
    AWS_LAMBDA_FUNCTION_NAME: 'tiler',
    AWS_LAMBDA_FUNCTION_VERSION: '7',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_LAMBDA_LOG_GROUP_NAME: '/custom/tiler',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // Lambda's reserved names win over the function's own, as Lambda refuses them in a configuration.
    AWS_REGION: 'us-west-2',
    AWS_DEFAULT_REGION: 'us-west-2',
    AWS_LAMBDA_RUNTIME_API: EXTERNAL_RUNTIME_API,
    RUN_LAMBDA_JOB: '1',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_LEVEL: 'INFO',
  });
  assert.equal(functionEnvironment(fn(), image()).environment.TZ, ':UTC');
});

test('the definition: Fargate, the runner essential with the external-runtime command, a gate, the function after the gate with its image and command', () => {
  const target = fn();
  const { environment } = functionEnvironment(target, target.image!);
  const def = functionImageDefinition(target, target.image!, environment, settings());
  assert.equal(def.name, `stk-fn-tiler-${'a'.repeat(12)}`);
  const { input } = def;
  assert.deepEqual(input.platformCapabilities, ['FARGATE']);
  assert.equal(input.type, 'container');
  assert.equal(input.containerProperties, undefined);
  assert.deepEqual(input.retryStrategy, {
    attempts: 3,
    evaluateOnExit: RETRY_ON_EXIT.map((e) => ({ ...e })),
  });
  assert.deepEqual(input.parameters, {
    lambda_function: '',
    url: '',
    url_out: '',
    [SPEC_PARAMETER]: def.spec,
  });
  const task = input.ecsProperties?.taskProperties?.[0];
  assert.ok(task);
  assert.equal(task.taskRoleArn, SETTINGS_ENV.JOB_ROLE_ARN);
  assert.equal(task.executionRoleArn, SETTINGS_ENV.JOB_EXECUTION_ROLE_ARN);
  assert.deepEqual(task.networkConfiguration, { assignPublicIp: 'ENABLED' });
  assert.deepEqual(task.runtimePlatform, { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' });
  assert.equal(task.pidMode, 'task', 'one PID namespace: the runner sees the function’s runtime go');
  const [runner, ready, func, ...more] = task.containers ?? [];
  assert.deepEqual(more, []);
  assert.deepEqual(runner, {
    name: 'runner',
    image: SETTINGS_ENV.RUNNER_IMAGE,
    essential: true,
    command: [
      'run',
      '--external-runtime',
      '--runtime-api',
      '127.0.0.1:9001',
      'Ref::lambda_function',
      'Ref::url',
      'Ref::url_out',
    ],
    environment: [{ name: 'RUN_LAMBDA_LOG_LEVEL', value: 'debug' }],
  });
  // The gate: on the runner's image, not essential, started with the runner, exits 0 once the API accepts.
  assert.deepEqual(ready, {
    name: 'ready',
    image: SETTINGS_ENV.RUNNER_IMAGE,
    essential: false,
    dependsOn: [{ containerName: 'runner', condition: 'START' }],
    command: ['/usr/local/lib/run-lambda/bin/node', '-e', READY_SCRIPT, '127.0.0.1:9001', '600'],
  });
  assert.equal(func?.name, 'function');
  assert.equal(func?.image, IMAGE);
  assert.equal(func?.essential, false);
  assert.deepEqual(func?.dependsOn, [{ containerName: 'ready', condition: 'SUCCESS' }]);
  assert.deepEqual(func?.command, ['app.handler']);
  assert.ok(!('entryPoint' in (func ?? {})), 'the image keeps its own entrypoint');
  assert.deepEqual(Object.fromEntries((func?.environment ?? []).map((e) => [e.name, e.value])), environment);
  assert.deepEqual(func?.resourceRequirements, [
    { type: 'VCPU', value: '1' },
    { type: 'MEMORY', value: '2048' },
  ]);
});

test('JOB_TIMEOUT_SECONDS is the attempt duration and the runner’s RUN_LAMBDA_JOB_TIMEOUT (its handler’s deadline)', () => {
  const target = fn();
  const def = functionImageDefinition(target, target.image!, {}, settings({ JOB_TIMEOUT_SECONDS: '900' }));
  assert.deepEqual(def.input.timeout, { attemptDurationSeconds: 900 });
  const runner = def.input.ecsProperties?.taskProperties?.[0]?.containers?.[0];
  assert.deepEqual(runner?.environment, [
    { name: 'RUN_LAMBDA_LOG_LEVEL', value: 'debug' },
    { name: RUN_LAMBDA_JOB_TIMEOUT, value: '900' },
  ]);
});

test('an image without ImageConfig.Command keeps its CMD; an arm64 function asks Fargate for ARM64', () => {
  const target = fn({ command: undefined, architecture: 'arm64' });
  const def = functionImageDefinition(target, target.image!, {}, settings());
  const task = def.input.ecsProperties?.taskProperties?.[0];
  assert.ok(!('command' in (task?.containers?.[2] ?? {})));
  assert.equal(task?.runtimePlatform?.cpuArchitecture, 'ARM64');
});

test('the spec hash is the same for the same definition and changes with anything in it', () => {
  const target = fn();
  const spec = (env: Record<string, string>, s = settings()) =>
    functionImageDefinition(target, target.image!, env, s).spec;
  assert.equal(spec({ A: '1', B: '2' }), spec({ B: '2', A: '1' }), 'the order of variables does not count');
  assert.notEqual(spec({ A: '1' }), spec({ A: '2' }));
  assert.notEqual(
    spec({}),
    spec({}, settings({ RUNNER_IMAGE: 'cirrusgeo/run-lambda:0.2.0-provided.al2023' })),
  );
  assert.notEqual(spec({}), spec({}, settings({ JOB_ATTEMPTS: '1' })));
  assert.match(spec({}), /^[0-9a-f]{16}$/);
});

test('image function settings: off without repositories; the roles and runner image are required; bad values are named', () => {
  assert.equal(readImageFunctionConfig({}), undefined);
  const s = settings();
  assert.deepEqual(
    [s.platform, s.assignPublicIp, s.attempts, s.timeoutSeconds, s.vcpus, s.memory],
    ['FARGATE', 'ENABLED', 3, undefined, '1', 2048],
  );
  const bad: [Record<string, string | undefined>, RegExp][] = [
    [{ RUNNER_IMAGE: undefined }, /^RUNNER_IMAGE is required$/],
    [{ JOB_ROLE_ARN: 'job' }, /^JOB_ROLE_ARN is not an IAM role ARN/],
    [{ JOB_EXECUTION_ROLE_ARN: undefined }, /^JOB_EXECUTION_ROLE_ARN is required$/],
    [
      { ALLOWED_IMAGE_REPOSITORIES: 'cirrus/*' },
      /^ALLOWED_IMAGE_REPOSITORIES holds "cirrus\/\*", which is not an ECR repository ARN/,
    ],
    [{ JOB_VCPUS: '3' }, /^JOB_VCPUS must be one of/],
    [{ JOB_ATTEMPTS: '11' }, /^JOB_ATTEMPTS must be from 1 to 10/],
    [{ JOB_TIMEOUT_SECONDS: '30' }, /^JOB_TIMEOUT_SECONDS must be at least 60/],
    [{ JOB_MEMORY: '256' }, /^JOB_MEMORY must be at least 512/],
    [{ JOB_PLATFORM: 'fargate' }, /^JOB_PLATFORM must be one of FARGATE, EC2/],
    [{ IMAGE_DEFINITION_PREFIX: '-x' }, /^IMAGE_DEFINITION_PREFIX must be/],
  ];
  for (const [over, message] of bad)
    assert.throws(
      () => readImageFunctionConfig({ ...SETTINGS_ENV, ...over }),
      (err: Error) => err.name === 'ConfigError' && message.test(err.message),
      JSON.stringify(over),
    );
});

function imagePlan(over: Partial<JobPlan> = {}): JobPlan {
  return parseJobPlan({
    function: ARN,
    payload: { kind: 'single', url: 's3://bkt/batch/tiler/k.json' },
    output: 's3://bkt/batch/tiler/k_out.json',
    record: 's3://bkt/batch/tiler/k_out.run.json',
    name: 'tiler',
    queue: 'q',
    image: {
      kind: 'function-image',
      flavour: 'lambda',
      image: IMAGE,
      jobDefinition: 'arn:aws:batch:us-west-2:123456789012:job-definition/stk-fn-tiler-aaaaaaaaaaaa:2',
      environment: [{ name: 'AWS_LAMBDA_LOG_STREAM_NAME', value: '2026/01/01/[$LATEST]ab' }],
    },
    resources: {},
    ...over,
  });
}

test('submitting to an image function: the overrides are ecsPropertiesOverride, resources on the function container', () => {
  const input = submitJobInput(imagePlan({ resources: { vcpus: 2, memory: 8192 }, attempts: 2 }));
  assert.equal(input.containerOverrides, undefined);
  assert.equal(
    input.jobDefinition,
    'arn:aws:batch:us-west-2:123456789012:job-definition/stk-fn-tiler-aaaaaaaaaaaa:2',
  );
  assert.deepEqual(input.ecsPropertiesOverride, {
    taskProperties: [
      {
        containers: [
          {
            name: 'function',
            resourceRequirements: [
              { type: 'VCPU', value: '2' },
              { type: 'MEMORY', value: '8192' },
            ],
            environment: [{ name: 'AWS_LAMBDA_LOG_STREAM_NAME', value: '2026/01/01/[$LATEST]ab' }],
          },
        ],
      },
    ],
  });
  assert.deepEqual(input.retryStrategy, {
    attempts: 2,
    evaluateOnExit: RETRY_ON_EXIT.map((e) => ({ ...e })),
  });
});

test("an image function's request timeout: Batch's attempt duration and the runner container's RUN_LAMBDA_JOB_TIMEOUT", () => {
  const input = submitJobInput(imagePlan({ timeout: 1800 }));
  assert.deepEqual(input.timeout, { attemptDurationSeconds: 1800 });
  const containers = input.ecsPropertiesOverride?.taskProperties?.[0]?.containers ?? [];
  assert.deepEqual(containers.find((c) => c.name === 'runner')?.environment, [
    { name: RUN_LAMBDA_JOB_TIMEOUT, value: '1800' },
  ]);
  const func = containers.find((c) => c.name === 'function');
  assert.ok(
    !func?.environment?.some((e) => e.name === RUN_LAMBDA_JOB_TIMEOUT),
    'the runner’s, not the function’s',
  );
});

test("an image function's item set: the item-set variables go to the runner container, which reads them", () => {
  const input = submitJobInput(
    imagePlan({
      payload: { kind: 'set', url: 's3://bkt/batch/tiler/k/in/', itemCount: 10, itemsPerJob: 5 },
      output: 's3://bkt/batch/tiler/k/out/',
      record: 's3://bkt/batch/tiler/k/out/',
    }),
  );
  assert.deepEqual(input.arrayProperties, { size: 2 });
  const runner = input.ecsPropertiesOverride?.taskProperties?.[0]?.containers?.find(
    (c) => c.name === 'runner',
  );
  assert.equal(runner?.environment?.find((e) => e.name === RUN_LAMBDA_ITEM_COUNT)?.value, '10');
});

test('a plan for an image function refuses GPUs, a tag instead of a digest, and a definition without revision', () => {
  assert.throws(() => imagePlan({ resources: { gpus: 1 } }), /^InvalidRequestError: gpus: /);
  const base = imagePlan().image as Extract<JobPlan['image'], { kind: 'function-image' }>;
  assert.throws(
    () => imagePlan({ image: { ...base, image: 'repo/x:latest' } }),
    /^InvalidRequestError: image: /,
  );
  assert.throws(
    () => imagePlan({ image: { ...base, jobDefinition: 'stk-fn-tiler-aaaaaaaaaaaa' } }),
    /^InvalidRequestError: image: /,
  );
});
