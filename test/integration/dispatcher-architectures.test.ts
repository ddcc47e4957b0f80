// The dispatcher against moto with a stack's configuration (JOB_DEFINITION_PREFIX, its images, an arm64 queue): an arm64
// function's job goes to its arm64 definition on the arm64 queue, an x86_64 one's to the x86_64 ones; without an arm64
// queue or definition the arm64 function is refused (UnsupportedRuntimeError) with nothing written or submitted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CONTEXT, startWorld, type World } from './dispatcher-fixtures.js';
import { createBatchEnvironment, registerJobDefinition } from './harness/batch-fixtures.js';
import { createFunction } from './harness/fixtures.js';

let w: World;
let arm64Queue: string;
before(async () => {
  w = await startWorld();
  arm64Queue = (await createBatchEnvironment(w.h, 'arch-arm64')).jobQueueArn;
  for (const name of ['arch-lambda', 'arch-lambda-arm64', 'arch-lambda-python3-13-arm64'])
    await registerJobDefinition(w.h, { name });
  await registerJobDefinition(w.h, {
    name: 'arch-lambda-anyarch',
    environment: { RUN_LAMBDA_IGNORE_ARCHITECTURE: 'true' },
  });
  await createFunction(w.h, { name: 'arm-task', architectures: ['arm64'] });
  await createFunction(w.h, { name: 'arm-task-313', architectures: ['arm64'], runtime: 'python3.13' });
  await createFunction(w.h, { name: 'x86-task', architectures: ['x86_64'] });
});
after(() => w?.h.stop());

/** A dispatcher of the stack `arch`: every definition named from the prefix, an arm64 queue unless told otherwise. */
const stack = (over: Record<string, string> = {}) =>
  w.handlerWith({
    JOB_DEFINITION_LAMBDA: '',
    JOB_DEFINITION_GEOLAMBDA: '',
    JOB_DEFINITION_PREFIX: 'arch',
    JOB_DEFINITION_RUNTIMES: 'lambda:python3.12 lambda:python3.13',
    JOB_QUEUE_ARM64: arm64Queue,
    ...over,
  });

const big = { blob: 'x'.repeat(10_000) };

test('an arm64 function runs on its arm64 definition in the arm64 queue; an x86_64 one on the x86_64 ones', async () => {
  const arm = await w.invoke(stack(), { lambda_function: 'arm-task', payload: { a: 1 } });
  assert.equal(arm.job_definition, 'arch-lambda-arm64');
  assert.equal(arm.job_queue, arm64Queue);
  const job = await w.describe(arm.job_id);
  assert.match(job.jobDefinition ?? '', /job-definition\/arch-lambda-arm64:\d+$/);
  assert.equal(job.jobQueue, arm64Queue);
  const x86 = await w.invoke(stack(), { lambda_function: 'x86-task', payload: { a: 1 } });
  assert.equal(x86.job_definition, 'arch-lambda');
  assert.equal(x86.job_queue, 'disp-queue');
  const other = await w.invoke(stack(), { lambda_function: 'arm-task-313', payload: { a: 1 } });
  assert.equal(other.job_definition, 'arch-lambda-python3-13-arm64');
});

/** Asserts that `run` fails with UnsupportedRuntimeError matching `message`, and that nothing was written or submitted. */
async function refusedBeforeAnything(run: () => Promise<unknown>, message: RegExp): Promise<void> {
  w.h.front.clear();
  const before = await w.keysUnder('');
  await assert.rejects(run(), (e: Error) => e.name === 'UnsupportedRuntimeError' && message.test(e.message));
  assert.equal(w.h.front.calls('s3', 'PutObject').length, 0, 'a payload was written');
  assert.equal(w.h.front.calls('batch', 'SubmitJob').length, 0, 'a job was submitted');
  assert.deepEqual(await w.keysUnder(''), before);
}

test('a stack with x86_64 queues only refuses an arm64 function, naming the architecture; its x86_64 functions still run', async () => {
  const handler = stack({ JOB_QUEUE_ARM64: '' });
  await refusedBeforeAnything(
    () => handler({ lambda_function: 'arm-task', payload: big }, CONTEXT),
    /built for arm64 and this dispatcher has no arm64 job queue/,
  );
  const x86 = await w.invoke(handler, { lambda_function: 'x86-task', payload: big });
  assert.equal(x86.job_definition, 'arch-lambda');
});

test('an arm64 function whose runtime has no arm64 definition is refused, naming the key and the architecture', async () => {
  const handler = stack({
    JOB_DEFINITION_PREFIX: '',
    JOB_DEFINITION_RUNTIMES: '',
    JOB_DEFINITION_LAMBDA: 'arch-lambda',
  });
  await refusedBeforeAnything(
    () => handler({ lambda_function: 'arm-task', payload: big }, CONTEXT),
    /no job definition for image lambda:python3\.12 on arm64 \(key lambda:python3\.12:arm64;/,
  );
});

test("an override for the arm64 key is what the job gets: an x86_64-only stack's own definition for arm64 code with nothing native (docs/deploy.md)", async () => {
  const handler = stack({
    JOB_DEFINITIONS: JSON.stringify({ 'lambda:python3.12:arm64': 'arch-lambda-anyarch' }),
    JOB_QUEUE_ARM64: 'disp-queue',
  });
  const answer = await w.invoke(handler, { lambda_function: 'arm-task', payload: { a: 1 } });
  assert.equal(answer.job_definition, 'arch-lambda-anyarch');
  assert.equal(answer.job_queue, 'disp-queue');
});
