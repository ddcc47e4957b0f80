// lambda-batch's refusals once its arguments are good, command by command, against moto: an unknown job, a job the
// dispatcher did not plan, a child or a single job where an array job is meant. Each is exit 2 with the problem
// named on the last line, nothing on stdout, and nothing submitted, written or stopped.
// (Arguments that are bad in themselves are test/unit/ops-cli.test.ts's table; a job still running is refused by
// redrive in ops-redrive.test.ts, and a record that is not ours by status in ops-status.test.ts.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { type OpsWorld, startOpsWorld, TASK } from './ops-world.js';

let w: OpsWorld;
let foreign: string;
let single: string;
let array: string;
before(async () => {
  w = await startOpsWorld();
  const made = await w.h.clients.batch.send(
    new SubmitJobCommand({ jobName: 'foreign', jobQueue: 'ops-queue', jobDefinition: 'ops-run-lambda' }),
  );
  foreign = made.jobId!;
  single = (await w.dispatch({ lambda_function: TASK, payload: { n: 1 } })).job_id;
  await w.run(single);
  array = (await w.dispatch({ lambda_function: TASK, payloads: [{ n: 0 }, { n: 1 }], items_per_job: 1 }))
    .job_id;
  await w.runArray(array);
});
after(() => w?.stop());

const UNKNOWN = '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b';
const NO_SUCH = `^lambda-batch: there is no Batch job ${UNKNOWN} in us-east-1 \\(or it is older than Batch keeps jobs\\)$`;

/** argv (with the world's jobs filled in) → the last line on stderr. */
const refusals: [string, () => string[], () => RegExp][] = [
  ['status of an unknown job', () => ['status', UNKNOWN], () => new RegExp(NO_SUCH)],
  ['logs of an unknown job', () => ['logs', UNKNOWN], () => new RegExp(NO_SUCH)],
  ['redrive of an unknown job', () => ['redrive', UNKNOWN], () => new RegExp(NO_SUCH)],
  ['cancel of an unknown job', () => ['cancel', UNKNOWN], () => new RegExp(NO_SUCH)],
  [
    'redrive of a job the dispatcher did not plan',
    () => ['redrive', foreign],
    () =>
      new RegExp(
        `^lambda-batch: job ${foreign} has no lambda_function, url and url_out parameters: it is not a job the dispatcher submitted$`,
      ),
  ],
  [
    'logs --index of a single job',
    () => ['logs', single, '--index', '0'],
    () => new RegExp(`^lambda-batch: job ${single} is not an array job; --index names a child of one$`),
  ],
  [
    'logs --index of a child',
    () => ['logs', `${array}:1`, '--index', '0'],
    () => new RegExp(`^lambda-batch: ${array}:1 is a child already; --index goes with the array job's id$`),
  ],
  [
    'logs --index past the array',
    () => ['logs', array, '--index', '2'],
    () => new RegExp(`^lambda-batch: job ${array} has 2 children \\(0 to 1\\); --index 2 is past them$`),
  ],
  [
    "redrive of an array child's id",
    () => ['redrive', `${array}:0`],
    () =>
      new RegExp(
        `^lambda-batch: ${array}:0 is a child of ${array}: redrive the array job, which runs its failed items$`,
      ),
  ],
];

for (const [what, args, last] of refusals)
  test(`${what}: exit 2, named; nothing submitted, written or stopped`, async () => {
    w.h.front.clear();
    const r = await w.cli(args());
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.last, last());
    assert.equal(r.stdout, '');
    for (const [service, operation] of [
      ['batch', 'SubmitJob'],
      ['batch', 'TerminateJob'],
      ['lambda', 'Invoke'],
      ['s3', 'PutObject'],
    ] as const)
      assert.equal(w.h.front.calls(service, operation).length, 0, `no ${operation}`);
  });

test('with --json a refusal is still one line on stderr and nothing on stdout', async () => {
  const r = await w.cli(['redrive', foreign, '--json']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.last, /is not a job the dispatcher submitted$/);
});
