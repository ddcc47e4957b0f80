// The dispatcher for container-image functions (docs/dispatcher.md "Container-image functions"), on moto through the front: one
// two-container job definition per image digest and configuration, found again by name, registered once even when
// dispatchers race; refusals before anything is written or registered; the submission's overrides.
// Gaps filled, each in the file that fills it: moto's Batch refuses ecsProperties definitions and knows no
// ecsPropertiesOverride (harness/front-batch-ecs.ts); moto's Lambda keeps Image functions but checks no image in its
// ECR stub, resolving `<repo>:<tag>` to `<repo>@sha256:<hash of the URI>` (harness/fixtures.ts createImageFunction).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DescribeJobDefinitionsCommand, type JobDefinition } from '@aws-sdk/client-batch';
import {
  GetFunctionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readConfig } from '../../functions/dispatcher/config.js';
import { SPEC_PARAMETER } from '../../functions/dispatcher/function-image-definition.js';
import { createHandler } from '../../functions/dispatcher/handler.js';
import type { Clock } from '../../functions/dispatcher/rate-limit.js';
import type { Env } from '../../lib/env.js';
import { createJsonLogger } from '../../lib/logger.js';
import type { BatchJobAnswer, BatchJobPlanAnswer } from '../../lib/request.js';
import { BUCKET, CONTEXT, DISPATCHER_ENV, fnArn, startWorld, type World } from './dispatcher-fixtures.js';
import { ACCOUNT_ID, createImageFunction, createRole, putObject, REGION } from './harness/fixtures.js';
import { ecsDefinitionProblem } from './harness/front-batch-ecs.js';
import type { RecordedRequest } from './harness/front-log.js';

const REGISTRY = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com`;
const REPOS = `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/tasks/*`;

let w: World;
let jobRole: string;
let execRole: string;
const resolved: Record<string, string> = {};
before(async () => {
  w = await startWorld();
  jobRole = await createRole(w.h, 'img-job-role', 'ecs-tasks.amazonaws.com');
  execRole = await createRole(w.h, 'img-exec-role', 'ecs-tasks.amazonaws.com');
  const fns: [string, string, Record<string, unknown>][] = [
    ['img-task', 'tasks/tiler:v1', { command: ['app.handler'], env: { STAGE: 'prod' }, memory: 3008 }],
    ['img-again', 'tasks/again:v1', {}],
    ['img-race', 'tasks/race:v1', {}],
    ['img-config', 'tasks/config:v1', { env: { MODE: 'a' } }],
    ['img-outside', 'other/tool:v1', {}],
    ['img-entry', 'tasks/entry:v1', { entryPoint: ['/bin/sh', '-c'] }],
    ['img-refused', 'tasks/refused:v1', {}],
    ['img-abandoned', 'tasks/abandoned:v1', {}],
    ['img-held', 'tasks/held:v1', {}],
    ['img-plan', 'tasks/plan:v1', {}],
    ['img-items', 'tasks/items:v1', {}],
    ['img-placed', 'tasks/placed:v1', {}],
    ['img-moved', 'tasks/moved:v1', {}],
    ['img-arm64', 'tasks/arm:v1', { architectures: ['arm64'] }],
  ];
  for (const [name, repo, spec] of fns) {
    const fn = await createImageFunction(w.h, { name, imageUri: `${REGISTRY}/${repo}`, ...spec });
    resolved[name] = fn.resolvedImage;
  }
});
after(() => w?.h.stop());

const IMAGE_ENV = {
  ALLOWED_IMAGE_REPOSITORIES: REPOS,
  RUNNER_IMAGE: 'cirrusgeo/run-lambda:0.1.0-provided.al2023',
  IMAGE_DEFINITION_PREFIX: 'stk-fn',
};

/** A clock whose sleeps pass at once (the waits for another dispatcher's registration). */
const instant: Clock = { now: () => performance.now(), sleep: async () => {} };

/** A fresh dispatcher container (its own function cache) with image functions on. */
function dispatcher(env: Env = {}, clock?: Clock) {
  const config = readConfig({
    ...DISPATCHER_ENV,
    ...IMAGE_ENV,
    JOB_ROLE_ARN: jobRole,
    JOB_EXECUTION_ROLE_ARN: execRole,
    ...env,
  });
  const logger = createJsonLogger({ service: 'dispatcher', level: 'error', write: () => {} });
  const handler = createHandler({ ...w.h.frontClients, config, logger, ...(clock ? { clock } : {}) });
  return (event: unknown) => handler(event, CONTEXT) as Promise<BatchJobAnswer>;
}

const calls = (op: string) => w.h.front.calls('batch', op);
const registered = (fn: string) =>
  calls('RegisterJobDefinition').filter((r) =>
    (r.body as { jobDefinitionName?: string }).jobDefinitionName?.includes(`-${fn}-`),
  );
const submitsOf = (answer: { job_definition: string }) =>
  calls('SubmitJob').filter(
    (r) => (r.body as { jobDefinition?: string }).jobDefinition === answer.job_definition,
  );
/** S3 objects written (a conditional write refused with 412 wrote nothing). */
const writes = () =>
  w.h.front.requests.filter(
    (r) => r.service === 's3' && r.operation === 'PutObject' && (r.status ?? 0) < 300,
  );

async function definitionsNamed(name: string): Promise<JobDefinition[]> {
  const out = await w.h.frontClients.batch.send(
    new DescribeJobDefinitionsCommand({ jobDefinitionName: name }),
  );
  return out.jobDefinitions ?? [];
}

test('an image function: one two-container definition for its digest, named from the function and digest; the job is submitted to it', async () => {
  w.h.front.clear();
  const answer = await dispatcher()({
    lambda_function: 'img-task',
    payload: { tile: 1 },
    vcpus: 2,
    memory: 4096,
  });
  const digest = resolved['img-task']!.split('@sha256:')[1]!;
  const name = `stk-fn-img-task-${digest.slice(0, 12)}`;
  assert.equal(answer.job_definition, `arn:aws:batch:${REGION}:${ACCOUNT_ID}:job-definition/${name}:1`);
  assert.equal(answer.function_image, resolved['img-task']);
  assert.equal(answer.image, 'lambda');

  // Registered once, as built, and Batch would take it (the rules front-batch-ecs.ts checks).
  const [reg, ...more] = registered('img-task');
  assert.ok(reg);
  assert.deepEqual(more, []);
  const body = reg.body as {
    ecsProperties: Parameters<typeof ecsDefinitionProblem>[0];
    platformCapabilities: string[];
  };
  assert.equal(ecsDefinitionProblem(body.ecsProperties, body.platformCapabilities), undefined);
  const [def] = await definitionsNamed(name);
  assert.ok(def?.ecsProperties, 'DescribeJobDefinitions answers with the ecsProperties');
  const task = def.ecsProperties.taskProperties?.[0];
  assert.equal(task?.taskRoleArn, jobRole);
  assert.equal(task?.executionRoleArn, execRole);
  const func = task?.containers?.find((c) => c.name === 'function');
  assert.equal(func?.image, resolved['img-task']);
  assert.deepEqual(func?.command, ['app.handler']);
  const env = Object.fromEntries((func?.environment ?? []).map((e) => [e.name, e.value]));
  assert.equal(env.STAGE, 'prod');
  assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '3008');
  assert.equal(env.AWS_LAMBDA_RUNTIME_API, '127.0.0.1:9001');

  // The submission: the usual parameters, resources on the function container, its log stream name per job.
  const [submit] = submitsOf(answer);
  const sent = submit?.body as {
    parameters: Record<string, string>;
    containerOverrides?: unknown;
    ecsPropertiesOverride: {
      taskProperties: {
        containers: {
          name: string;
          resourceRequirements?: unknown;
          environment?: { name: string; value: string }[];
        }[];
      }[];
    };
  };
  assert.deepEqual(sent.parameters, {
    lambda_function: fnArn('img-task'),
    url: answer.url,
    url_out: answer.url_out,
  });
  assert.equal(sent.containerOverrides, undefined);
  const [over] = sent.ecsPropertiesOverride.taskProperties[0]!.containers;
  assert.equal(over?.name, 'function');
  assert.deepEqual(over?.resourceRequirements, [
    { type: 'VCPU', value: '2' },
    { type: 'MEMORY', value: '4096' },
  ]);
  assert.match(over?.environment?.[0]?.value ?? '', /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
  const job = await w.describe(answer.job_id);
  assert.equal(job.jobDefinition, answer.job_definition);
});

test('an arm64 image function: its task on ARM64 with the arm64 runner image, its job on the arm64 queue; refused, registering nothing, without one', async () => {
  const arm64 = {
    RUNNER_IMAGE_ARM64: 'cirrusgeo/run-lambda:0.1.0-provided.al2023-arm64',
    JOB_QUEUE_ARM64: 'stk-disp-queue',
  };
  w.h.front.clear();
  await assert.rejects(
    dispatcher({ RUNNER_IMAGE_ARM64: '', JOB_QUEUE_ARM64: 'stk-disp-queue' })({
      lambda_function: 'img-arm64',
      payload: {},
    }),
    /no arm64 runner image \(RUNNER_IMAGE_ARM64\)/,
  );
  await assert.rejects(
    dispatcher({ ...arm64, JOB_QUEUE_ARM64: '' })({ lambda_function: 'img-arm64', payload: {} }),
    /built for arm64 and this dispatcher has no arm64 job queue/,
  );
  assert.deepEqual(registered('img-arm64'), []);
  assert.deepEqual(writes(), []);
  const answer = await dispatcher(arm64)({ lambda_function: 'img-arm64', payload: { tile: 2 } });
  assert.equal(answer.job_queue, 'stk-disp-queue');
  const [reg] = registered('img-arm64');
  assert.ok(reg, 'its definition was registered');
  const task = (
    reg.body as {
      ecsProperties: {
        taskProperties: {
          runtimePlatform: { cpuArchitecture: string };
          containers: { name: string; image: string }[];
        }[];
      };
    }
  ).ecsProperties.taskProperties[0]!;
  assert.equal(task.runtimePlatform.cpuArchitecture, 'ARM64');
  const images = Object.fromEntries(task.containers.map((c) => [c.name, c.image]));
  assert.deepEqual(images, {
    runner: arm64.RUNNER_IMAGE_ARM64,
    ready: arm64.RUNNER_IMAGE_ARM64,
    function: resolved['img-arm64'],
  });
});

test('a second request, from another dispatcher container, finds the definition by name and registers nothing', async () => {
  const first = await dispatcher()({ lambda_function: 'img-again', payload: { n: 1 } });
  const second = await dispatcher()({ lambda_function: 'img-again', payload: { n: 2 } });
  assert.equal(second.job_definition, first.job_definition);
  assert.equal(registered('img-again').length, 1);
  assert.equal(submitsOf(first).length, 2);
});

test('two dispatchers racing for a new image register it once and submit to the same revision', async () => {
  // Registration held back, so both find nothing and reach the lock together.
  const slow = w.h.front.fault({
    match: (r) => r.operation === 'RegisterJobDefinition',
    kind: 'latency',
    ms: 400,
  });
  try {
    const [a, b] = await Promise.all([
      dispatcher()({ lambda_function: 'img-race', payload: { n: 'a' } }),
      dispatcher()({ lambda_function: 'img-race', payload: { n: 'b' } }),
    ]);
    assert.equal(a.job_definition, b.job_definition);
    assert.equal(registered('img-race').length, 1, 'one RegisterJobDefinition');
    const name = a.job_definition.split('/')[1]!.split(':')[0]!;
    assert.equal((await definitionsNamed(name)).length, 1, 'one revision in Batch');
    assert.ok(
      calls('DescribeJobDefinitions').filter(
        (r) => (r.body as { jobDefinitionName?: string }).jobDefinitionName === name,
      ).length >= 3,
      'the loser looked again while waiting',
    );
  } finally {
    slow.remove();
  }
});

test('a changed configuration (the same digest) is a new revision of the same name; each configuration keeps its own', async () => {
  const a = await dispatcher()({ lambda_function: 'img-config', payload: { n: 1 } });
  await w.h.clients.lambda.send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: 'img-config',
      Environment: { Variables: { MODE: 'b' } },
    }),
  );
  const b = await dispatcher()({ lambda_function: 'img-config', payload: { n: 2 } });
  const [nameA, revA] = a.job_definition.split('/')[1]!.split(':');
  const [nameB, revB] = b.job_definition.split('/')[1]!.split(':');
  assert.equal(nameB, nameA);
  assert.deepEqual([revA, revB], ['1', '2']);
  const defs = await definitionsNamed(nameA!);
  const specs = new Set(defs.map((d) => d.parameters?.[SPEC_PARAMETER]));
  assert.equal(specs.size, 2, 'two specs, one revision each');
  const c = await dispatcher()({ lambda_function: 'img-config', payload: { n: 3 } });
  assert.equal(c.job_definition, b.job_definition);
  assert.equal(registered('img-config').length, 2);
});

const refusals: [string, () => Promise<unknown>, string, RegExp][] = [
  [
    'an image outside ALLOWED_IMAGE_REPOSITORIES',
    () => dispatcher()({ lambda_function: 'img-outside', payload: { big: 'x'.repeat(20_000) } }),
    'FunctionNotAllowedError',
    /repository\/other\/tool\) is not allowed by ALLOWED_IMAGE_REPOSITORIES/,
  ],
  [
    'an ImageConfig.EntryPoint, which a Batch job definition cannot set',
    () => dispatcher()({ lambda_function: 'img-entry', payload: { big: 'x'.repeat(20_000) } }),
    'UnsupportedRuntimeError',
    /ImageConfig.EntryPoint/,
  ],
  [
    'the geolambda image asked for',
    () =>
      dispatcher()({ lambda_function: 'img-task', image: 'geolambda', payload: { big: 'x'.repeat(20_000) } }),
    'InvalidRequestError',
    /^image: geolambda does not apply/,
  ],
  [
    'GPUs asked for',
    () => dispatcher()({ lambda_function: 'img-task', gpus: 1, payload: { big: 'x'.repeat(20_000) } }),
    'InvalidRequestError',
    /^gpus: /,
  ],
  [
    'jobs on EC2',
    () =>
      dispatcher({ JOB_PLATFORM: 'EC2' })({
        lambda_function: 'img-task',
        payload: { big: 'x'.repeat(20_000) },
      }),
    'UnsupportedRuntimeError',
    /Fargate only/,
  ],
];
for (const [name, call, type, message] of refusals) {
  test(`refused before anything is written or registered: ${name}`, async () => {
    w.h.front.clear();
    await assert.rejects(call(), (err: Error) => err.name === type && message.test(err.message));
    assert.deepEqual(writes(), [], 'nothing written');
    assert.deepEqual(calls('RegisterJobDefinition'), [], 'nothing registered');
    assert.deepEqual(calls('SubmitJob'), [], 'nothing submitted');
  });
}

test('image functions off (no ALLOWED_IMAGE_REPOSITORIES): refused as before, and the dispatcher never calls GetFunction', async () => {
  w.h.front.clear();
  const off = readConfig({ ...DISPATCHER_ENV });
  const handler = createHandler({
    ...w.h.frontClients,
    config: off,
    logger: createJsonLogger({ service: 'd', level: 'error', write: () => {} }),
  });
  await assert.rejects(
    handler({ lambda_function: 'img-task', payload: { a: 1 } }, CONTEXT),
    (err: Error) => err.name === 'UnsupportedRuntimeError' && /image functions are off/.test(err.message),
  );
  assert.deepEqual(w.h.front.calls('lambda', 'GetFunction'), []);
  assert.deepEqual(writes(), []);
});

test('Batch refusing the definition: JobDefinitionError, nothing written or submitted, the claim released; a retry registers it', async () => {
  w.h.front.clear();
  const refuse = w.h.front.fault({
    match: (r) => r.operation === 'RegisterJobDefinition',
    kind: 'error',
    status: 400,
    code: 'ClientException',
    message: 'Error executing request, Exception : executionRoleArn is not valid',
    times: 1,
  });
  const req = { lambda_function: 'img-refused', payload: { big: 'x'.repeat(20_000) } };
  await assert.rejects(
    dispatcher()(req),
    (err: Error) => err.name === 'JobDefinitionError' && /executionRoleArn is not valid/.test(err.message),
  );
  assert.equal(refuse.hits, 1);
  const lockWrites = writes().filter((r) => r.path.endsWith('.jobdef.json'));
  assert.equal(lockWrites.length, 1, 'only the claim was written');
  assert.equal(writes().length, 1, 'no payload');
  assert.deepEqual(calls('SubmitJob'), []);
  assert.deepEqual(await w.keysUnder('batch/img-refused/'), [], 'the claim was released');
  const answer = await dispatcher()(req);
  assert.match(answer.job_definition, /:1$/);
});

test('a claim abandoned by a dispatcher that died (lease over, nothing registered) is taken over and registered once', async () => {
  const digest = resolved['img-abandoned']!.split('@sha256:')[1]!;
  const name = `stk-fn-img-abandoned-${digest.slice(0, 12)}`;
  const planned = await plannedLockKey('img-abandoned');
  await w.h.clients.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: planned,
      Body: JSON.stringify({ owner: 'dead', name, spec: 'x', expires_at: Date.now() - 1000 }),
    }),
  );
  const answer = await dispatcher({}, instant)({ lambda_function: 'img-abandoned', payload: { n: 1 } });
  assert.match(answer.job_definition, new RegExp(`${name}:1$`));
  assert.equal(registered('img-abandoned').length, 2, 'the scratch run that was refused, then the takeover');
  assert.equal((await definitionsNamed(name)).length, 1, 'one revision');
});

test('a claim another dispatcher still holds (and never completes): JobDefinitionError after waiting, nothing registered or written', async () => {
  const key = await plannedLockKey('img-held');
  await w.h.clients.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: JSON.stringify({ owner: 'busy', name: 'x', spec: 'x', expires_at: Date.now() + 3_600_000 }),
    }),
  );
  w.h.front.clear();
  await assert.rejects(
    dispatcher({}, instant)({ lambda_function: 'img-held', payload: { big: 'x'.repeat(20_000) } }),
    (err: Error) =>
      err.name === 'JobDefinitionError' && /another dispatcher is registering/.test(err.message),
  );
  assert.deepEqual(calls('RegisterJobDefinition'), []);
  assert.deepEqual(writes(), []);
});

/**
 * The lock key of a function's definition, as the dispatcher names it (`<prefix><fn>/<definition>.<spec>.jobdef.json`):
 * read from the claim a refused registration writes (and releases) in a scratch run.
 */
async function plannedLockKey(fn: string): Promise<string> {
  w.h.front.clear();
  const refuse = w.h.front.fault({
    match: (r) => r.operation === 'RegisterJobDefinition',
    kind: 'error',
    status: 400,
    times: 1,
  });
  await dispatcher()({ lambda_function: fn, payload: { n: 0 } }).catch(() => undefined);
  refuse.remove();
  const claim = writes().find((r: RecordedRequest) => r.path.endsWith('.jobdef.json'));
  assert.ok(claim, 'the scratch run wrote a claim');
  return claim.path.replace(`/${BUCKET}/`, '');
}

test('plan mode registers the definition (Step Functions submits to it) and answers the SubmitJob input; nothing is submitted', async () => {
  w.h.front.clear();
  const planned = (await dispatcher()({
    lambda_function: 'img-plan',
    payload: { n: 1 },
    plan: true,
  })) as unknown as BatchJobPlanAnswer;
  assert.equal(registered('img-plan').length, 1);
  assert.deepEqual(calls('SubmitJob'), []);
  const input = planned.submit_job as {
    jobDefinition: string;
    ecsPropertiesOverride?: unknown;
    containerOverrides?: unknown;
  };
  assert.equal(input.jobDefinition, planned.job_definition);
  assert.ok(input.ecsPropertiesOverride);
  assert.equal(input.containerOverrides, undefined);
  assert.equal(planned.function_image, resolved['img-plan']);
});

test("an image function's item set: one array job, the item-set variables on the runner container", async () => {
  const answer = await dispatcher()({
    lambda_function: 'img-items',
    payloads: [{ i: 0 }, { i: 1 }, { i: 2 }],
    items_per_job: 2,
  });
  assert.equal(answer.array_size, 2);
  const [submit] = submitsOf(answer);
  assert.ok(submit);
  const containers = (
    submit.body as {
      ecsPropertiesOverride: {
        taskProperties: { containers: { name: string; environment?: { name: string; value: string }[] }[] }[];
      };
    }
  ).ecsPropertiesOverride.taskProperties[0]!.containers;
  const runner = containers.find((c) => c.name === 'runner');
  assert.deepEqual(Object.fromEntries((runner?.environment ?? []).map((e) => [e.name, e.value])), {
    RUN_LAMBDA_ITEM_COUNT: '3',
    RUN_LAMBDA_ITEMS_PER_JOB: '2',
  });
});

test("an image function's set refused where its payload is placed (no url_out for a prefix outside the in/ layout, a redrive list past the set): nothing registered or written", async () => {
  await putObject(w.h, BUCKET, 'img/placed/in/redrive-1.json', [5]);
  w.h.front.clear();
  const set = { lambda_function: 'img-placed', item_count: 2 };
  await assert.rejects(dispatcher()({ ...set, url: `s3://${BUCKET}/img/placed/items/` }), {
    name: 'InvalidRequestError',
    message: 'url_out: is required for an item set url that does not end in /in/',
  });
  const url = `s3://${BUCKET}/img/placed/in/`;
  await assert.rejects(dispatcher()({ ...set, url, item_indexes: `${url}redrive-1.json` }), {
    name: 'InvalidRequestError',
    message: /^item_indexes: s3:\/\/.*\/redrive-1\.json entry 0 \(5\) is not below the item count 2$/,
  });
  assert.deepEqual(registered('img-placed'), []);
  assert.deepEqual(writes(), []);
  assert.equal(calls('SubmitJob').length, 0);
});

test('the same idempotency_key for an image function: the same answer and one job', async () => {
  const req = { lambda_function: 'img-task', payload: { k: 1 }, idempotency_key: 'img-key-1' };
  const a = await dispatcher()(req);
  const b = await dispatcher()(req);
  assert.deepEqual(b, a);
  assert.equal(
    calls('SubmitJob').filter((r) => (r.response as { jobId?: string })?.jobId === a.job_id).length,
    1,
  );
});

test("a digest that moved between two requests: the next request, within the function cache, runs the new digest on a definition of its own; the old key's answer stays the old job", async () => {
  const d = dispatcher(); // one container: its function cache still holds the first lookup below
  const keyed = { lambda_function: 'img-moved', payload: { n: 0 }, idempotency_key: 'img-moved-1' };
  const first = await d({ lambda_function: 'img-moved', payload: { n: 1 } });
  const firstKeyed = await d(keyed);
  assert.equal(first.function_image, resolved['img-moved']);
  await w.h.clients.lambda.send(
    new UpdateFunctionCodeCommand({ FunctionName: 'img-moved', ImageUri: `${REGISTRY}/tasks/moved:v2` }),
  );
  const moved = (await w.h.clients.lambda.send(new GetFunctionCommand({ FunctionName: 'img-moved' }))).Code!
    .ResolvedImageUri!;
  assert.notEqual(moved, first.function_image, 'moto gave the new image another digest');
  w.h.front.clear();
  const second = await d({ lambda_function: 'img-moved', payload: { n: 2 } });
  assert.equal(second.function_image, moved, 'not the cached digest');
  assert.notEqual(second.job_definition, first.job_definition);
  assert.ok(second.job_definition.includes(`-img-moved-${moved.split('@sha256:')[1]!.slice(0, 12)}:`));
  const [registration] = registered('img-moved');
  const containers = (
    registration!.body as {
      ecsProperties: { taskProperties: { containers: { name: string; image: string }[] }[] };
    }
  ).ecsProperties.taskProperties[0]!.containers;
  assert.equal(
    containers.find((c) => c.name === 'function')?.image,
    moved,
    'the new definition runs the new digest',
  );
  assert.deepEqual(
    calls('SubmitJob').map((r) => (r.body as { jobDefinition: string }).jobDefinition),
    [second.job_definition],
  );
  // The same request again (its key) is the job it already made, on the digest it had: an answer, not a new job.
  const again = await d(keyed);
  assert.deepEqual(again, firstKeyed);
  assert.equal(calls('SubmitJob').length, 1);
});
