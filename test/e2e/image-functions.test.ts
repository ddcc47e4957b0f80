// Container-image functions end to end (docs/dispatcher.md "Container-image functions"): the template deployed on moto with
// FunctionImageRepositories → the deployed dispatcher → one registered two-container definition per image (reused) →
// the job as its containers (the runner, the gate, the function's own image) → result and run record on S3; then
// every AWS call checked against the deployed policies.
// Where a Docker engine answers, the containers are real: the run-lambda image test/images builds for the runner
// and the gate, and the function's image built FROM the stand-in Lambda base with its handler in /var/task; else each
// container is a process (the function's image a folder with a stand-in of /lambda-entrypoint.sh). Gaps filled, each
// in its file: moto's Batch refuses ecsProperties definitions (harness/front-batch-ecs.ts) and runs no container
// (harness/batch-exec.ts, batch-task.ts, local-images.ts); moto's Lambda checks no image in its ECR stub
// (harness/fixtures.ts createImageFunction); the rest as in dispatch-to-result.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { skipReason } from '../images/docker.js';
import { ensureImages } from '../images/images.js';
import { ACCOUNT_ID, createImageFunction, REGION } from '../integration/harness/fixtures.js';
import {
  dockerFunctionImage,
  type FunctionImageSpec,
  folderImage,
  type LocalImage,
  SILENT_PYTHON_APP,
} from '../integration/harness/local-images.js';
import { callerOf, decide, permissionsFor, rolePolicies, wildcardAllows } from './iam.js';
import {
  Callers,
  E2E_SETUP_TIMEOUT_MS,
  type E2eWorld,
  fnArn,
  network,
  retryAction,
  startE2e,
} from './world.js';

const REGISTRY = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com`;

const PY_APP = `import os, sys

def handler(event, context):
    return {"echo": event, "greeting": os.environ["GREETING"], "function": context.function_name,
            "memory": context.memory_limit_in_mb, "job": os.environ.get("AWS_BATCH_JOB_ID"),
            "run_lambda_job": os.environ.get("RUN_LAMBDA_JOB"), "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}
`;
const NODE_APP = `export const handler = async (event, context) => ({
  echo: event, function: context.functionName, job: process.env.AWS_BATCH_JOB_ID,
  runLambdaJob: process.env.RUN_LAMBDA_JOB,
});
`;
const FAILING = `def handler(event, context):
    raise ValueError("tile %s has no bands: ünïcödé" % event["id"])
`;

// Its runtime dies mid-invocation, SIGKILLed as a crash in native code or the OOM killer would end it. Where its
// container has a PID namespace of its own, python is that namespace's init, which ignores its own SIGKILL: it then
// exits at once instead (so it ends either way; only a runner that watches it sees that within seconds).
const DYING = `import os, signal, sys, time

def handler(event, context):
    print("handler started", file=sys.stderr, flush=True)
    time.sleep(1)
    os.kill(os.getpid(), signal.SIGKILL)
    os._exit(137)
`;

interface Fn {
  name: string;
  repo: string;
  command: string[];
  image: FunctionImageSpec;
}
const FNS: Fn[] = [
  {
    name: 'e2e-img-py',
    repo: 'e2e-fn/py',
    command: ['app.handler'],
    image: { runtime: 'python', files: { 'app.py': PY_APP }, cmd: ['app.handler'] },
  },
  {
    name: 'e2e-img-node',
    repo: 'e2e-fn/node',
    command: ['index.handler'],
    image: { runtime: 'nodejs', files: { 'index.mjs': NODE_APP }, cmd: ['index.handler'] },
  },
  {
    name: 'e2e-img-fail',
    repo: 'e2e-fn/fail',
    command: ['app.handler'],
    image: { runtime: 'python', files: { 'app.py': FAILING }, cmd: ['app.handler'] },
  },
  {
    name: 'e2e-img-dying',
    repo: 'e2e-fn/dying',
    command: ['app.handler'],
    image: { runtime: 'python', files: { 'app.py': DYING }, cmd: ['app.handler'] },
  },
  {
    name: 'e2e-img-silent',
    repo: 'e2e-fn/silent',
    command: ['app.handler'],
    image: { runtime: 'python', files: { 'app.py': SILENT_PYTHON_APP }, cmd: ['app.handler'] },
  },
];

let w: E2eWorld;
const images = new Map<string, LocalImage>();
let ranOn = '';
before(
  async () => {
    w = await startE2e('e2e-img', {
      parameters: async (h) => ({
        ...(await network(h)),
        FunctionImageRepositories: `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/e2e-fn/*`,
      }),
    });
    const docker = skipReason() === undefined ? await ensureImages() : undefined;
    for (const fn of FNS) {
      const created = await createImageFunction(w.h, {
        name: fn.name,
        imageUri: `${REGISTRY}/${fn.repo}:v1`,
        command: fn.command,
        env: { GREETING: 'grüß dich' },
        memory: 3008,
      });
      const local = docker
        ? await dockerFunctionImage(
            docker.standins.bases[fn.image.runtime === 'python' ? 'lambda:python3.12' : 'lambda:nodejs22.x']
              ?.x86_64 as string,
            fn.image,
            `FROM the stand-in ${fn.image.runtime} Lambda base`,
          )
        : await folderImage(join(w.dir, `image-${fn.name}`), fn.image);
      images.set(created.resolvedImage, local);
      ranOn = local.kind;
    }
    await createImageFunction(w.h, { name: 'e2e-img-outside', imageUri: `${REGISTRY}/other/tool:v1` });
  },
  { timeout: E2E_SETUP_TIMEOUT_MS },
);
after(() => w?.stop());

const run = (jobId: string, env: Record<string, string> = {}) =>
  w.runJob(jobId, { images: (image) => images.get(image), env });
const registrations = (fn: string) =>
  w.h.front
    .calls('batch', 'RegisterJobDefinition')
    .filter(
      (r) =>
        callerOf(r) === Callers.dispatcher &&
        String((r.body as { jobDefinitionName: string }).jobDefinitionName).includes(`-${fn}-`),
    );

test('the deployed dispatcher registers one definition for an image (a second request reuses it), named <stack>-fn-<function>-<digest>', async () => {
  const a = await w.dispatch({ lambda_function: 'e2e-img-py', payload: { n: 1 } });
  const b = await w.dispatch({ lambda_function: 'e2e-img-py', payload: { n: 2 } });
  assert.equal(b.job_definition, a.job_definition);
  assert.match(a.job_definition, /:job-definition\/e2e-img-fn-e2e-img-py-[0-9a-f]{12}:1$/);
  assert.equal(registrations('e2e-img-py').length, 1);
  const def = await w.describeDefinition(a.job_definition);
  const task = def.ecsProperties?.taskProperties?.[0];
  assert.equal(task?.taskRoleArn, w.stack.outputs.JobRoleArn);
  const runner = task?.containers?.find((c) => c.name === 'runner');
  const { LambdaImageRepository, ImageVersion } = w.stack.parameters;
  assert.equal(runner?.image, `${LambdaImageRepository}:${ImageVersion}-provided.al2023-x86_64`);
  assert.equal(runner?.essential, true);
  assert.equal(retryAction(def, 1), 'exit');
  assert.equal(retryAction(def, 4), 'retry');
});

for (const [fn, expected] of [
  [
    'e2e-img-py',
    (jobId: string, n: number) => ({
      echo: { n },
      greeting: 'grüß dich',
      function: 'e2e-img-py',
      memory: '3008',
      job: jobId,
      run_lambda_job: '1',
      version: '$LATEST',
    }),
  ],
  [
    'e2e-img-node',
    (jobId: string, n: number) => ({ echo: { n }, function: 'e2e-img-node', job: jobId, runLambdaJob: '1' }),
  ],
] as const) {
  test(`${fn}: the job runs the function's own image beside the runner; its result and run record land on S3`, async (t) => {
    const answer = await w.dispatch({ lambda_function: fn, payload: { n: 7 } });
    assert.ok(answer.function_image && images.has(answer.function_image));
    const r = await run(answer.job_id);
    t.diagnostic(`function image: ${images.get(answer.function_image)?.describe} (${ranOn})`);
    assert.equal(r.exitCode, 0, `${r.stderr}\n--- function:\n${r.containers?.function?.stderr}`);
    assert.equal(r.containers?.ready?.exitCode, 0, 'the gate saw the Runtime API');
    assert.deepEqual(JSON.parse(String(await w.read(answer.url_out))), expected(answer.job_id, 7));
    const record = JSON.parse(String(await w.read(answer.record_url))) as {
      status: string;
      exit_code: number;
    };
    assert.deepEqual([record.status, record.exit_code], ['succeeded', 0]);
  });
}

test('a failing handler in its image: exit 1 (not retried), its error type in the last line and the run record, nothing at url_out', async () => {
  const answer = await w.dispatch({ lambda_function: 'e2e-img-fail', payload: { id: 'T9' } });
  const r = await run(answer.job_id);
  assert.equal(r.exitCode, 1, r.stderr);
  assert.equal(r.lastLine, 'ValueError: tile T9 has no bands: ünïcödé');
  assert.equal(await w.read(answer.url_out), undefined);
  const record = JSON.parse(String(await w.read(answer.record_url))) as {
    status: string;
    error: { errorType: string; errorMessage: string };
  };
  assert.equal(record.status, 'failed');
  assert.equal(record.error.errorType, 'ValueError');
  assert.equal(retryAction(await w.describeDefinition(answer.job_definition), 1), 'exit');
});

test('a runtime killed mid-invocation in its own container: the runner, in one PID namespace with it, sees it go within seconds: exit 1 Runtime.ExitError, its record, nothing at url_out', async (t) => {
  const answer = await w.dispatch({ lambda_function: 'e2e-img-dying', payload: { id: 'D' } });
  const def = await w.describeDefinition(answer.job_definition);
  assert.equal(def.ecsProperties?.taskProperties?.[0]?.pidMode, 'task');
  // The deadline a minute away: a runner that cannot see the runtime die ends the run only there (exit 124).
  const r = await run(answer.job_id, { RUN_LAMBDA_TIMEOUT: '60', RUN_LAMBDA_LOG_LEVEL: 'debug' });
  t.diagnostic(`runner in ${r.ranIn}; function in ${r.containers?.function?.ranIn}`);
  assert.equal(r.exitCode, 1, `${r.stderr}\n--- function:\n${r.containers?.function?.stderr}`);
  assert.match(
    r.lastLine,
    /^Runtime\.ExitError: the function's runtime \(process \d+, python[\d.]*\) ended before it returned a result$/,
  );
  assert.match(r.containers?.function?.stderr ?? '', /handler started/);
  assert.equal(await w.read(answer.url_out), undefined);
  const record = JSON.parse(String(await w.read(answer.record_url))) as {
    status: string;
    exit_code: number;
    error: { errorType: string };
  };
  assert.deepEqual(
    [record.status, record.exit_code, record.error.errorType],
    ['failed', 1, 'Runtime.ExitError'],
  );
});

test('a runtime that never asks for an invocation: the runner gives up after --init-timeout with exit 3, nothing at url_out', async () => {
  const answer = await w.dispatch({ lambda_function: 'e2e-img-silent', payload: { id: 'S' } });
  const r = await run(answer.job_id, { RUN_LAMBDA_INIT_TIMEOUT: '3' });
  assert.equal(r.exitCode, 3, r.stderr);
  assert.match(r.lastLine, /^[.\w]+: /);
  assert.equal(await w.read(answer.url_out), undefined);
  assert.equal(
    r.containers?.function?.started,
    true,
    'the function container started and was stopped with the task',
  );
});

test('an image outside FunctionImageRepositories is refused before anything is written or registered', async () => {
  const before = w.h.front.requests.length;
  await assert.rejects(
    w.dispatch({ lambda_function: 'e2e-img-outside', payload: { big: 'x'.repeat(20_000) } }),
    (err: Error) => err.name === 'FunctionNotAllowedError' && /other\/tool/.test(err.message),
  );
  const made = w.h.front.requests.slice(before).filter((r) => callerOf(r) === Callers.dispatcher);
  assert.deepEqual(
    made.map((r) => r.operation).sort(),
    ['GetFunction', 'GetFunctionConfiguration', 'ListTags'],
    'only the look-up',
  );
});

// Runs last: it reads what every call above did from the front's log.
test('IAM: every call the dispatcher and the image-function jobs made is allowed by the deployed policies; none has a wildcard action', async () => {
  const roles = {
    dispatcher: String(w.dispatcher.configuration.Role),
    job: w.stack.outputs.JobRoleArn ?? '',
  };
  const needs: Record<keyof typeof roles, string[]> = {
    dispatcher: [
      'batch:DescribeJobDefinitions',
      'batch:RegisterJobDefinition',
      'batch:SubmitJob',
      'iam:PassRole',
      'lambda:GetFunction',
      's3:PutObject',
    ],
    job: ['lambda:GetFunction', 's3:PutObject'],
  };
  for (const who of Object.keys(roles) as (keyof typeof roles)[]) {
    const { statements } = await rolePolicies(w.h, roles[who]);
    assert.deepEqual(wildcardAllows(statements), [], `${who}: an Allow with a wildcard action`);
    const permissions = w.h.front.requests
      .filter((r) => callerOf(r) === Callers[who])
      .flatMap((r) => permissionsFor(r, REGION, ACCOUNT_ID));
    const seen = new Set(permissions.map((p) => p.action));
    for (const action of needs[who]) assert.ok(seen.has(action), `${who} made no ${action} call`);
    assert.deepEqual(
      permissions.filter((p) => decide(statements, p) !== 'allow'),
      [],
      `${who} would be refused these`,
    );
  }
  const { statements } = await rolePolicies(w.h, roles.dispatcher);
  // …and the same check refuses a role the stack did not make, and a definition outside <stack>-fn-*.
  const other = `arn:aws:iam::${ACCOUNT_ID}:role/admin`;
  assert.equal(
    decide(statements, { action: 'iam:PassRole', resource: other, passedToService: 'batch.amazonaws.com' }),
    'deny',
  );
  assert.equal(
    decide(statements, {
      action: 'iam:PassRole',
      resource: w.stack.outputs.JobRoleArn ?? '',
      passedToService: 'lambda.amazonaws.com',
    }),
    'deny',
  );
  assert.equal(
    decide(statements, {
      action: 'batch:RegisterJobDefinition',
      resource: `arn:aws:batch:${REGION}:${ACCOUNT_ID}:job-definition/e2e-img-lambda`,
    }),
    'deny',
  );
  assert.equal(decide(statements, { action: 'lambda:GetFunction', resource: fnArn('e2e-img-py') }), 'allow');
});
