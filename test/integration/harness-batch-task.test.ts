// Self-tests of the harness's multi-container jobs: the task runner's dependsOn and essential rules (batch-task.ts),
// and the front's ecsProperties gap (front-batch-ecs.ts): what it refuses as Batch does, what it answers.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
} from '@aws-sdk/client-batch';
import { type BatchEnvironment, createBatchEnvironment } from './harness/batch-fixtures.js';
import { type ContainerSpec, runTask } from './harness/batch-task.js';
import { ecsDefinitionProblem } from './harness/front-batch-ecs.js';
import { type Harness, startHarness } from './harness/index.js';

let dir: string;
let h: Harness;
let env: BatchEnvironment;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'batch-task-test-'));
  h = await startHarness();
  env = await createBatchEnvironment(h, 'task');
});
after(async () => {
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
});

const sh = (name: string, script: string, over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name,
  essential: false,
  dependsOn: [],
  image: 'host',
  command: ['sh', '-c', script],
  env: { DIR: dir },
  ...over,
});
const hostPath = process.env.PATH ?? '/usr/bin:/bin';

test('dependsOn: START waits for the other to start, SUCCESS for it to exit 0; the essential one ends the task', async () => {
  const r = await runTask(
    [
      sh('main', 'until [ -f "$DIR/done" ]; do sleep 0.05; done; exit 7', { essential: true }),
      sh('gate', 'echo ready > "$DIR/gate"; exit 0', {
        dependsOn: [{ containerName: 'main', condition: 'START' }],
      }),
      // Sees the gate's file: it started only after the gate exited 0.
      sh('after', 'cat "$DIR/gate"; touch "$DIR/done"; exec sleep 60', {
        dependsOn: [{ containerName: 'gate', condition: 'SUCCESS' }],
      }),
    ],
    { hostPath },
  );
  assert.equal(r.main?.exitCode, 7, 'the job exit code is the essential container’s');
  assert.equal(r.gate?.exitCode, 0);
  assert.equal(r.after?.stdout.trim(), 'ready');
  assert.equal(r.after?.signal, 'SIGTERM', 'stopped when the essential container exited');
});

test('dependsOn SUCCESS on a container that exits non-zero: the dependent never starts', async () => {
  const r = await runTask(
    [
      sh('main', 'sleep 0.2; exit 3', { essential: true }),
      sh('gate', 'exit 1', { dependsOn: [{ containerName: 'main', condition: 'START' }] }),
      sh('after', 'echo started', { dependsOn: [{ containerName: 'gate', condition: 'SUCCESS' }] }),
    ],
    { hostPath },
  );
  assert.equal(r.main?.exitCode, 3);
  assert.equal(r.after?.started, false);
  assert.equal(r.after?.stdout, '');
});

test('a non-essential container that exits leaves the task running; COMPLETE holds on any exit', async () => {
  const r = await runTask(
    [
      sh('main', 'until [ -f "$DIR/complete" ]; do sleep 0.05; done; exit 0', { essential: true }),
      sh('side', 'exit 5'),
      sh('after', 'touch "$DIR/complete"', { dependsOn: [{ containerName: 'side', condition: 'COMPLETE' }] }),
    ],
    { hostPath },
  );
  assert.deepEqual([r.main?.exitCode, r.side?.exitCode, r.after?.exitCode], [0, 5, 0]);
});

const task = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  taskProperties: [{ executionRoleArn: 'arn:aws:iam::123456789012:role/x', containers, ...extra }],
});

const problems: [string, unknown, RegExp][] = [
  [
    'no essential container',
    task([{ name: 'a', image: 'i', essential: false }]),
    /at least one essential container/,
  ],
  [
    'two containers of one name',
    task([
      { name: 'a', image: 'i' },
      { name: 'a', image: 'j' },
    ]),
    /must be unique/,
  ],
  [
    'a dependsOn naming no container',
    task([{ name: 'a', image: 'i', dependsOn: [{ containerName: 'b', condition: 'START' }] }]),
    /depends on b, which is not in the task/,
  ],
  [
    'SUCCESS on an essential container',
    task([
      { name: 'a', image: 'i' },
      { name: 'b', image: 'j', essential: false, dependsOn: [{ containerName: 'a', condition: 'SUCCESS' }] },
    ]),
    /can't be set on an essential container \(a\)/,
  ],
  [
    'an unknown condition',
    task([{ name: 'a', image: 'i', dependsOn: [{ containerName: 'a', condition: 'HEALTHY' }] }]),
    /not START, COMPLETE or SUCCESS/,
  ],
  [
    'Fargate without an execution role',
    { taskProperties: [{ containers: [{ name: 'a', image: 'i' }] }] },
    /execution role/,
  ],
];
for (const [name, ecs, message] of problems) {
  test(`the front refuses an ecsProperties definition as Batch does: ${name}`, async () => {
    assert.match(ecsDefinitionProblem(ecs as never, ['FARGATE']) ?? '', message);
    await assert.rejects(
      h.frontClients.batch.send(
        new RegisterJobDefinitionCommand({
          jobDefinitionName: 'bad',
          type: 'container',
          platformCapabilities: ['FARGATE'],
          ecsProperties: ecs as never,
        }),
      ),
      (err: Error) => err.name === 'ClientException' && message.test(err.message),
    );
  });
}

test('the front keeps an ecsProperties definition under moto’s revisions, answers it as Batch does, and checks submissions against it', async () => {
  const register = () =>
    h.frontClients.batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'two-containers',
        type: 'container',
        platformCapabilities: ['FARGATE'],
        ecsProperties: task([
          { name: 'main', image: 'main:1', command: ['run'] },
          {
            name: 'side',
            image: 'side:1',
            essential: false,
            dependsOn: [{ containerName: 'main', condition: 'START' }],
          },
        ]) as never,
      }),
    );
  const one = await register();
  const two = await register();
  assert.deepEqual([one.revision, two.revision], [1, 2]);
  const { jobDefinitions } = await h.frontClients.batch.send(
    new DescribeJobDefinitionsCommand({ jobDefinitionName: 'two-containers', status: 'ACTIVE' }),
  );
  assert.equal(jobDefinitions?.length, 2);
  for (const d of jobDefinitions ?? []) {
    assert.equal(d.containerProperties, undefined);
    assert.deepEqual(
      d.ecsProperties?.taskProperties?.[0]?.containers?.map((c) => c.name),
      ['main', 'side'],
    );
  }
  const submit = (over: Record<string, unknown>) =>
    h.frontClients.batch.send(
      new SubmitJobCommand({
        jobName: 'j',
        jobQueue: env.jobQueueArn,
        jobDefinition: one.jobDefinitionArn,
        ...over,
      }),
    );
  await assert.rejects(submit({ containerOverrides: { command: ['x'] } }), /containerOverrides do not apply/);
  await assert.rejects(
    submit({ ecsPropertiesOverride: { taskProperties: [{ containers: [{ name: 'nope' }] }] } }),
    /names container nope/,
  );
  const ok = await submit({
    ecsPropertiesOverride: { taskProperties: [{ containers: [{ name: 'side', command: ['y'] }] }] },
  });
  const { jobs } = await h.frontClients.batch.send(new DescribeJobsCommand({ jobs: [ok.jobId ?? ''] }));
  assert.equal(jobs?.[0]?.container, undefined);
  assert.deepEqual(
    jobs?.[0]?.ecsProperties?.taskProperties?.[0]?.containers?.map((c) => c.name),
    ['main', 'side'],
  );
  // A container definition does not take ecsPropertiesOverride.
  const plain = await h.clients.batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: 'plain',
      type: 'container',
      containerProperties: {
        image: 'x',
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '512' },
        ],
      },
    }),
  );
  await assert.rejects(
    submit({
      jobDefinition: plain.jobDefinitionArn,
      ecsPropertiesOverride: { taskProperties: [{ containers: [] }] },
    }),
    /applies only to a job definition with ecsProperties/,
  );
});
