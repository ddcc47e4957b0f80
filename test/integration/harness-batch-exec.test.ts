// Self-tests of executeJob: Batch's Ref:: substitution, environment and `run` on PATH, on moto's Batch; and of
// describedAsRun, which gives moto's job the ending Batch would report.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DescribeJobsCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { executeArrayJob } from './harness/batch-array.js';
import { describedAsRun, executeJob, REPO_ROOT } from './harness/batch-exec.js';
import {
  type BatchEnvironment,
  createBatchEnvironment,
  registerJobDefinition,
} from './harness/batch-fixtures.js';
import { envFromPairs, mergeParameters, nameFromArn, substituteRefs } from './harness/batch-refs.js';
import { type Harness, startHarness } from './harness/index.js';

const refCases: [string, string[], Record<string, string>, string[]][] = [
  [
    'whole arguments are replaced',
    ['run', 'Ref::f', 'Ref::url'],
    { f: 'fn', url: 's3://b/k' },
    ['run', 'fn', 's3://b/k'],
  ],
  [
    'an unknown Ref:: stays literal',
    ['run', 'Ref::f', 'Ref::missing'],
    { f: 'fn' },
    ['run', 'fn', 'Ref::missing'],
  ],
  ['a Ref:: inside an argument is not touched', ['--x=Ref::f', 'Ref::f'], { f: 'fn' }, ['--x=Ref::f', 'fn']],
  ['an empty value replaces too', ['run', 'Ref::f'], { f: '' }, ['run', '']],
  ['prototype names are not parameters', ['Ref::constructor'], {}, ['Ref::constructor']],
];
for (const [name, command, params, expected] of refCases) {
  test(`substituteRefs: ${name}`, () => {
    assert.deepEqual(substituteRefs(command, params), expected);
  });
}

test('job parameters override the definition defaults; later env pairs win', () => {
  assert.deepEqual(mergeParameters({ a: '1', b: '2' }, undefined, { b: '3' }), { a: '1', b: '3' });
  assert.deepEqual(envFromPairs([{ name: 'A', value: '1' }], [{ name: 'A', value: '2' }, { name: 'B' }]), {
    A: '2',
    B: '',
  });
  assert.equal(nameFromArn('arn:aws:batch:us-east-1:123456789012:job-queue/q1'), 'q1');
  assert.equal(nameFromArn('arn:aws:batch:us-east-1:123456789012:job-definition/d:3'), 'd');
  assert.equal(nameFromArn('plain'), 'plain');
});

let h: Harness;
let env: BatchEnvironment;
let dir: string;
let probe: string;
before(async () => {
  h = await startHarness();
  env = await createBatchEnvironment(h, 'exec');
  dir = await mkdtemp(join(tmpdir(), 'batch-exec-test-'));
  probe = join(dir, 'probe.mjs');
  const keys = [
    'AWS_BATCH_JOB_ID',
    'AWS_BATCH_JQ_NAME',
    'AWS_BATCH_JOB_ATTEMPT',
    'AWS_BATCH_CE_NAME',
    'AWS_BATCH_JOB_ARRAY_INDEX',
    'AWS_BATCH_JOB_ARRAY_SIZE',
    'AWS_ENDPOINT_URL',
    'A',
    'B',
  ];
  await writeFile(
    probe,
    `const env = Object.fromEntries(${JSON.stringify(keys)}.map((k) => [k, process.env[k]]));\n` +
      'console.log(JSON.stringify({ argv: process.argv.slice(2), env }));\n' +
      "console.error('first line');\nconsole.error('Boom: last line');\nprocess.exit(Number(process.env.EXIT ?? 0));\n",
  );
});
after(async () => {
  await h?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('executeJob runs `run` with the substituted command, Batch env and the AWS env of the harness', async () => {
  const def = await registerJobDefinition(h, {
    name: 'exec-def',
    parameters: { url_out: 'default-out', extra: 'x' },
    environment: { A: 'from-def', B: 'from-def' },
  });
  const { jobId } = await h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'exec-job',
      jobQueue: env.jobQueueArn,
      jobDefinition: def.jobDefinitionName,
      parameters: { lambda_function: 'my-fn', url: 's3://b/in.json' },
      containerOverrides: { environment: [{ name: 'B', value: 'from-submit' }] },
    }),
  );
  const r = await executeJob(h, jobId!, { runScript: probe, attempt: 2, env: { EXIT: '3' } });
  assert.equal(r.exitCode, 3);
  assert.equal(r.lastLine, 'Boom: last line');
  assert.deepEqual(r.command, ['run', 'my-fn', 's3://b/in.json', 'default-out']);
  assert.deepEqual(JSON.parse(r.stdout), {
    argv: ['my-fn', 's3://b/in.json', 'default-out'],
    env: {
      AWS_BATCH_JOB_ID: jobId,
      AWS_BATCH_JQ_NAME: 'exec-queue',
      AWS_BATCH_JOB_ATTEMPT: '2',
      AWS_BATCH_CE_NAME: 'exec-ce',
      AWS_ENDPOINT_URL: h.endpoint,
      A: 'from-def',
      B: 'from-submit',
    },
  });
});

test('executeJob can stop the job with SIGTERM as Batch does on timeout', async () => {
  const sleeper = join(dir, 'sleep.mjs');
  await writeFile(sleeper, 'setTimeout(() => {}, 60_000);\n');
  const def = await registerJobDefinition(h, { name: 'exec-sleep' });
  const { jobId } = await h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'sleep',
      jobQueue: env.jobQueueName,
      jobDefinition: def.jobDefinitionArn,
    }),
  );
  // The sleeper would run for a minute: ended by the signal, not by itself.
  const r = await executeJob(h, jobId!, { runScript: sleeper, killAfterMs: 200 });
  assert.equal(r.signal, 'SIGTERM');
  assert.equal(r.exitCode, null);
});

const built = join(REPO_ROOT, 'dist/run-lambda.mjs');
test('executeJob starts the built runner by default', {
  skip: existsSync(built) ? false : 'dist/run-lambda.mjs is not built',
}, async () => {
  const def = await registerJobDefinition(h, { name: 'exec-version', command: ['run', '--version'] });
  const { jobId } = await h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'version',
      jobQueue: env.jobQueueName,
      jobDefinition: def.jobDefinitionArn,
    }),
  );
  const r = await executeJob(h, jobId!);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /\d+\.\d+\.\d+/);
});

test('executeArrayJob runs every child of an array job: its index, the array size and <id>:<index>', async () => {
  const def = await registerJobDefinition(h, { name: 'exec-array', environment: { A: 'a' } });
  const { jobId } = await h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'array',
      jobQueue: env.jobQueueName,
      jobDefinition: def.jobDefinitionArn,
      arrayProperties: { size: 5 },
    }),
  );
  const children = await executeArrayJob(h, jobId!, {
    parallel: 2,
    child: (i) => ({ runScript: probe, env: { EXIT: String(i === 3 ? 1 : 0) } }),
  });
  assert.deepEqual(
    children.map((c) => [c.index, c.exitCode]),
    [
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 1],
      [4, 0],
    ],
  );
  for (const c of children) {
    const seen = JSON.parse(c.stdout).env;
    assert.equal(seen.AWS_BATCH_JOB_ARRAY_INDEX, String(c.index));
    assert.equal(seen.AWS_BATCH_JOB_ARRAY_SIZE, '5');
    assert.equal(seen.AWS_BATCH_JOB_ID, `${jobId}:${c.index}`);
  }
  const only = await executeArrayJob(h, jobId!, {
    only: [2],
    child: () => ({ runScript: probe, attempt: 2 }),
  });
  assert.deepEqual(
    only.map((c) => [c.index, JSON.parse(c.stdout).env.AWS_BATCH_JOB_ATTEMPT]),
    [[2, '2']],
  );
});

test('executeJob stopWhen sends its signal once the check holds (a host lost mid-way)', async () => {
  const sleeper = join(dir, 'sleep-stop.mjs');
  await writeFile(sleeper, 'setTimeout(() => {}, 60_000);\n');
  const def = await registerJobDefinition(h, { name: 'exec-stop' });
  const { jobId } = await h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'stop',
      jobQueue: env.jobQueueName,
      jobDefinition: def.jobDefinitionArn,
    }),
  );
  let polls = 0;
  const r = await executeJob(h, jobId!, {
    runScript: sleeper,
    stopWhen: { check: () => ++polls >= 3, signal: 'SIGKILL' },
  });
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(polls >= 3);
});

test("describedAsRun: moto's job (SUCCEEDED at submit, no exit code) as Batch describes it once its container exited", async () => {
  const def = await registerJobDefinition(h, { name: 'exec-ended' });
  const { jobId } = await h.frontClients.batch.send(
    new SubmitJobCommand({
      jobName: 'ended',
      jobQueue: env.jobQueueArn,
      jobDefinition: def.jobDefinitionArn,
    }),
  );
  const { jobs } = await h.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId!] }));
  const moto = jobs![0]!;
  assert.equal(moto.status, 'SUCCEEDED');
  assert.equal(moto.container?.exitCode, undefined, 'moto knows no exit code (this fill is still needed)');

  // The fields Batch sets, as the documented failed-job description (the fixture) has them.
  const fixture = JSON.parse(
    await readFile(
      join(REPO_ROOT, 'test/fixtures/step-functions/submit-job-sync-failed-caught.json'),
      'utf8',
    ),
  ) as { error: { Cause: string } };
  const documented = JSON.parse(fixture.error.Cause) as {
    Status: string;
    StatusReason: string;
    Container: { ExitCode: number };
    Attempts: { StatusReason: string; Container: { ExitCode: number } }[];
  };
  const failed = describedAsRun(moto, { exitCode: 1, signal: null });
  assert.deepEqual(
    [failed.status, failed.statusReason, failed.container?.exitCode],
    [documented.Status, documented.StatusReason, documented.Container.ExitCode],
  );
  const attempt = failed.attempts?.at(-1);
  const documentedAttempt = documented.Attempts.at(-1);
  assert.deepEqual(
    [attempt?.statusReason, attempt?.container?.exitCode],
    [documentedAttempt?.StatusReason, documentedAttempt?.Container.ExitCode],
  );
  assert.equal(failed.attempts?.length, moto.attempts?.length, 'the attempt moto started, not a new one');
  assert.equal(moto.container?.exitCode, undefined, "moto's answer is left as it was");

  const ok = describedAsRun(moto, { exitCode: 0, signal: null });
  assert.deepEqual(
    [ok.status, ok.container?.exitCode, ok.attempts?.at(-1)?.container?.exitCode],
    ['SUCCEEDED', 0, 0],
  );
  const stopped = describedAsRun(moto, { exitCode: null, signal: 'SIGTERM' });
  assert.deepEqual([stopped.status, stopped.container?.exitCode], ['FAILED', 143]);
});
