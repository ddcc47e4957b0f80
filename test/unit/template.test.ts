// template.yaml: cfn-lint is clean, and the job definitions, retry rules and outputs do what docs/deploy.md promises.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readConfig } from '../../functions/dispatcher/config.js';
import { RETRY_ON_EXIT, RUN_LAMBDA_JOB_TIMEOUT } from '../../lib/job-plan.js';
import { DISPATCHER_BUNDLE } from '../integration/helper-dispatcher.js';
import { jobDefinitions, loadTemplate, resource, substituteCommand } from '../support/cfn-yaml.js';
import { missingTool, toolPath } from '../support/tools.js';

const root = new URL('../../', import.meta.url);
const template = loadTemplate();
const defs = jobDefinitions(template);

test('cfn-lint template.yaml prints nothing and exits 0 (it runs the SAM transform)', () => {
  const r = spawnSync(toolPath('cfn-lint'), ['template.yaml'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') assert.fail(missingTool('cfn-lint'));
  assert.equal(`${r.stdout}${r.stderr}`, '', 'cfn-lint reported problems');
  assert.equal(r.status, 0);
});

type Rule = { Action: string; OnExitCode?: string; OnReason?: string; OnStatusReason?: string };
type Exit = { exitCode?: number; statusReason?: string; reason?: string };

// Batch's globs: an exact string, or a prefix ending in `*`. A value that is absent matches nothing.
function globMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}

// As Batch evaluates EvaluateOnExit: the first entry whose every condition matches decides; none matching retries.
function batchAction(rules: readonly Rule[], exit: Exit): 'RETRY' | 'EXIT' {
  for (const rule of rules) {
    const checks: [string | undefined, string | undefined][] = [
      [rule.OnExitCode, exit.exitCode === undefined ? undefined : String(exit.exitCode)],
      [rule.OnStatusReason, exit.statusReason],
      [rule.OnReason, exit.reason],
    ];
    if (checks.every(([pattern, value]) => pattern === undefined || globMatches(pattern, value))) {
      return rule.Action.toUpperCase() as 'RETRY' | 'EXIT';
    }
  }
  return 'RETRY';
}

const exits: [string, Exit, 'RETRY' | 'EXIT'][] = [
  ['the function failed (1)', { exitCode: 1, statusReason: 'Essential container in task exited' }, 'EXIT'],
  ['bad usage or input (2)', { exitCode: 2, statusReason: 'Essential container in task exited' }, 'EXIT'],
  ['the function could not be prepared (3)', { exitCode: 3 }, 'EXIT'],
  [
    'payload or result I/O failed (4)',
    { exitCode: 4, statusReason: 'Essential container in task exited' },
    'RETRY',
  ],
  ['the runner deadline passed (124)', { exitCode: 124 }, 'EXIT'],
  [
    'out of memory (137)',
    { exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
    'EXIT',
  ],
  ['stopped by SIGTERM on its own (143)', { exitCode: 143 }, 'EXIT'],
  [
    'EC2 host lost, container got SIGTERM',
    { exitCode: 143, statusReason: 'Host EC2 (instance i-0abc) terminated.' },
    'RETRY',
  ],
  ['EC2 host lost, no exit code', { statusReason: 'Host EC2 (instance i-0abc) terminated.' }, 'RETRY'],
  [
    'Fargate Spot task interrupted',
    { exitCode: 143, statusReason: 'Your Spot Task was interrupted.' },
    'RETRY',
  ],
];

test('the template has one job definition per image of images/matrix.json and architecture', () => {
  const matrix = JSON.parse(readFileSync(new URL('images/matrix.json', root), 'utf8')) as {
    arches: unknown[];
    images: unknown[];
  };
  assert.equal(Object.keys(defs).length, matrix.images.length * matrix.arches.length);
});

for (const [image, def] of Object.entries(defs)) {
  test(`${image} job definition: retries host and Spot loss and exit code 4, never 1, 2 or 3`, () => {
    const rules = def.retryStrategy.EvaluateOnExit;
    for (const [what, exit, expected] of exits) assert.equal(batchAction(rules, exit), expected, what);
  });

  test(`${image} job definition: EvaluateOnExit has at most 5 entries, each a pattern Batch accepts`, () => {
    const rules = def.retryStrategy.EvaluateOnExit;
    assert.ok(rules.length >= 1 && rules.length <= 5, `${rules.length} entries`);
    for (const r of rules) {
      assert.match(r.Action, /^(RETRY|EXIT)$/i);
      if (r.OnExitCode !== undefined) assert.match(r.OnExitCode, /^[0-9]*\*?$/);
      for (const p of [r.OnStatusReason, r.OnReason])
        if (p !== undefined) assert.match(p, /^[A-Za-z0-9.: \t]*\*?$/);
    }
    assert.deepEqual(def.retryStrategy.Attempts, { Ref: 'JobAttempts' });
  });

  test(`${image} job definition: Command is exactly run Ref::lambda_function Ref::url Ref::url_out`, () => {
    assert.deepEqual(def.command, ['run', 'Ref::lambda_function', 'Ref::url', 'Ref::url_out']);
  });

  test(`${image} job definition: every Ref:: has a default, so no literal placeholder reaches the runner`, () => {
    assert.deepEqual(substituteCommand(def.command, def.parameters, {}), ['run', '', '', '']);
    const submitted = { lambda_function: 'fn', url: 's3://b/k.json', url_out: 's3://b/k_out.json' };
    assert.deepEqual(substituteCommand(def.command, def.parameters, submitted), [
      'run',
      'fn',
      's3://b/k.json',
      's3://b/k_out.json',
    ]);
  });

  test(`${image} job definition: a timeout, resource requirements and the job and execution roles`, () => {
    assert.deepEqual(def.timeoutSeconds, { Ref: 'JobTimeoutSeconds' });
    const p = resource(template, image).Properties ?? {};
    const c = p.ContainerProperties as Record<string, unknown>;
    const types = (c.ResourceRequirements as { Type: string }[]).map((r) => r.Type).sort();
    assert.deepEqual(types, ['MEMORY', 'VCPU']);
    assert.deepEqual(c.JobRoleArn, { 'Fn::GetAtt': ['JobRole', 'Arn'] });
    assert.deepEqual(c.ExecutionRoleArn, { 'Fn::GetAtt': ['JobExecutionRole', 'Arn'] });
    // The runner keeps the handler's deadline within the attempt's duration (its --job-timeout).
    assert.deepEqual(
      (c.Environment as { Name: string; Value: unknown }[]).find((e) => e.Name === RUN_LAMBDA_JOB_TIMEOUT)
        ?.Value,
      { Ref: 'JobTimeoutSeconds' },
    );
    assert.deepEqual(p.PlatformCapabilities, [{ 'Fn::If': ['IsFargate', 'FARGATE', 'EC2'] }]);
  });
}

test('the dispatcher re-sends the same EvaluateOnExit when it overrides attempts (SubmitJob replaces it whole)', () => {
  const fromTemplate = defs.LambdaJobDefinition?.retryStrategy.EvaluateOnExit.map((r) => ({
    ...(r.OnStatusReason !== undefined ? { onStatusReason: r.OnStatusReason } : {}),
    ...(r.OnReason !== undefined ? { onReason: r.OnReason } : {}),
    ...(r.OnExitCode !== undefined ? { onExitCode: r.OnExitCode } : {}),
    action: r.Action,
  }));
  assert.deepEqual(
    RETRY_ON_EXIT.map((e) => ({ ...e })),
    fromTemplate,
    'lib/job-plan.ts RETRY_ON_EXIT must equal the job definitions’ EvaluateOnExit in template.yaml',
  );
});

test('the dispatcher runs on nodejs24.x, arm64, from dist/dispatcher with no SAM build step', () => {
  const fn = resource(template, 'Dispatcher', 'AWS::Serverless::Function');
  const p = fn.Properties ?? {};
  assert.equal(p.Runtime, 'nodejs24.x');
  assert.deepEqual(p.Architectures, ['arm64']);
  assert.equal(p.Handler, 'index.handler');
  assert.equal(p.CodeUri, 'dist/dispatcher');
  // A BuildMethod would have `sam build` make another bundle than the one the tests run.
  assert.equal(fn.Metadata, undefined);
});

test('what the template deploys as the dispatcher is the bundle the integration and e2e tests load', () => {
  const p = resource(template, 'Dispatcher').Properties ?? {};
  const [module, exported] = String(p.Handler).split('.');
  const deployed = join(new URL(String(p.CodeUri), root).pathname, `${module}.mjs`);
  assert.equal(realpathSync(deployed), realpathSync(DISPATCHER_BUNDLE));
  assert.equal(exported, 'handler');
  // The folder is zipped whole: nothing in it but the bundle and its source map.
  assert.deepEqual(readdirSync(new URL(String(p.CodeUri), root)).sort(), ['index.mjs', 'index.mjs.map']);
  assert.match(readFileSync(deployed, 'utf8'), /export\s*\{[^}]*\bhandler\b/);
});

test('the dispatcher environment the template sets is a configuration the dispatcher accepts', () => {
  const env = resource(template, 'Dispatcher').Properties?.Environment as {
    Variables: Record<string, unknown>;
  };
  const vars = env.Variables;
  // Stand-ins for what CloudFormation resolves; the point is the names and which ones are present.
  const stand: Record<string, string> = {
    PAYLOAD_BUCKET: 'payload-bucket',
    PAYLOAD_PREFIX: 'batch/',
    JOB_QUEUE: 'arn:aws:batch:us-west-2:123456789012:job-queue/q',
    JOB_QUEUE_ARM64: 'arn:aws:batch:us-west-2:123456789012:job-queue/q-arm64',
    JOB_DEFINITION_LAMBDA: 'arn:aws:batch:us-west-2:123456789012:job-definition/s-lambda:1',
    JOB_DEFINITION_GEOLAMBDA: 'arn:aws:batch:us-west-2:123456789012:job-definition/s-geolambda:1',
    JOB_DEFINITION_PREFIX: 's',
    JOB_DEFINITION_RUNTIMES: 'lambda:python3.12 lambda:python3.13 geolambda:python3.12',
    INLINE_PAYLOAD_LIMIT: '16384',
    ALLOWED_FUNCTIONS: '',
    LOG_LEVEL: 'info',
    NODE_OPTIONS: '--enable-source-maps',
    // Image functions, with FunctionImageRepositories given (empty turns them off: imageFunctions undefined).
    ALLOWED_IMAGE_REPOSITORIES: 'arn:aws:ecr:us-west-2:123456789012:repository/cirrus-*',
    RUNNER_IMAGE: 'cirrusgeo/run-lambda:0.1.0-provided.al2023-x86_64',
    RUNNER_IMAGE_ARM64: 'cirrusgeo/run-lambda:0.1.0-provided.al2023-arm64',
    JOB_ROLE_ARN: 'arn:aws:iam::123456789012:role/s-JobRole-X',
    JOB_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/s-JobExecutionRole-X',
    IMAGE_DEFINITION_PREFIX: 's-fn',
    JOB_PLATFORM: 'FARGATE',
    JOB_ASSIGN_PUBLIC_IP: 'ENABLED',
    JOB_ATTEMPTS: '3',
    JOB_TIMEOUT_SECONDS: '43200',
    JOB_VCPUS: '0.25',
    JOB_MEMORY: '2048',
  };
  assert.deepEqual(Object.keys(vars).sort(), Object.keys(stand).sort());
  assert.equal(readConfig({ ...stand, ALLOWED_IMAGE_REPOSITORIES: '' }).imageFunctions, undefined);
  // The template's parameter values are what the dispatcher accepts for them.
  for (const v of (template.Parameters?.JobVcpus?.AllowedValues ?? []) as string[])
    assert.equal(readConfig({ ...stand, JOB_VCPUS: v }).imageFunctions?.vcpus, v);
  assert.equal(readConfig({ ...stand, JOB_PLATFORM: 'EC2' }).imageFunctions?.platform, 'EC2');
  const config = readConfig(stand);
  assert.equal(config.imageFunctions?.attempts, 3);
  assert.equal(config.payloadBucket, 'payload-bucket');
  assert.equal(config.jobQueue, stand.JOB_QUEUE);
  assert.equal(config.jobDefinitions['geolambda:python3.12'], stand.JOB_DEFINITION_GEOLAMBDA);
  assert.equal(config.jobQueueArm64, stand.JOB_QUEUE_ARM64);
  assert.deepEqual(config.definitionPrefix?.images, [
    'lambda:python3.12',
    'lambda:python3.13',
    'geolambda:python3.12',
  ]);
  assert.equal(config.imageFunctions?.runnerImageArm64, stand.RUNNER_IMAGE_ARM64);
  assert.equal(config.inlinePayloadLimit, 16384);
  assert.equal(template.Parameters?.InlinePayloadLimit?.MaxValue, 16384, 'parameter cap = dispatcher cap');
});

test('the helper layer is packaged from dist/layer, which npm run build lays out as Lambda unpacks it', () => {
  const layer = resource(template, 'HelperLayer', 'AWS::Serverless::LayerVersion');
  assert.equal(layer.Properties?.ContentUri, 'dist/layer');
  // Without a BuildMethod `sam build` leaves a layer alone and `sam deploy` zips the folder as it is.
  assert.equal(layer.Metadata, undefined);
  if (!existsSync(new URL('dist/layer/', root))) {
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(b.status, 0, `npm run build failed: ${b.stderr}`);
  }
  assert.ok(existsSync(new URL('dist/layer/nodejs/node_modules/cirrus-batch/package.json', root)));
  assert.ok(existsSync(new URL('dist/layer/python/cirrus_batch.py', root)));
});

test('the image parameters default to the cirrusgeo repositories and package.json’s version', () => {
  const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
  assert.equal(template.Parameters?.LambdaImageRepository?.Default, 'cirrusgeo/run-lambda');
  assert.equal(template.Parameters?.GeoLambdaImageRepository?.Default, 'cirrusgeo/run-geolambda');
  assert.equal(template.Parameters?.ImageVersion?.Default, version);
});

test('outputs: dispatcher ARN and name, layer ARN, bucket, queues and the job definitions of both architectures', () => {
  const outputs = Object.keys(template.Outputs ?? {});
  for (const name of [
    'DispatcherArn',
    'DispatcherName',
    'HelperLayerArn',
    'PayloadBucket',
    'JobQueue',
    'JobQueueArm64',
    'LambdaJobDefinitionArn',
    'GeoLambdaJobDefinitionArn',
    'JobDefinitions',
    'JobDefinitionsArm64',
  ]) {
    assert.ok(outputs.includes(name), `output ${name} is missing`);
  }
});
