// lambda-batch logs against moto's CloudWatch Logs: the executor writes each container's output there as Batch's
// awslogs driver would (the definition's awslogs-group, the stream `<definition>/default/<ECS task id>`), and the CLI
// finds the group from the definition and the stream from the job: one payload's, an array child's (--index), an
// attempt's (--attempt), and the events of a job as it runs (--follow, until it ends).
// Gaps filled, each in its file: moto's Batch runs nothing and names no stream of its own making (harness/batch-exec.ts
// and batch-logs.ts run the job and ship its output; front-batch-jobs.ts puts each attempt's stream in DescribeJobs).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFINITION, LOG_GROUP, type OpsWorld, startOpsWorld, TASK } from './ops-world.js';

let w: OpsWorld;
before(async () => {
  w = await startOpsWorld();
});
after(() => w?.stop());

const STREAM = new RegExp(`^${DEFINITION}/default/[0-9a-f]{32}$`);

test("one payload's log: its container's stream in the definition's group, stdout and stderr, oldest first", async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 11 } });
  await w.run(a.job_id);
  const r = await w.cli(['logs', a.job_id]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(
    lines.some((l) => / item 11 starts$/.test(l)),
    r.stdout,
  );
  assert.ok(
    lines.some((l) => / item 11 on stderr$/.test(l)),
    r.stdout,
  );
  assert.match(
    lines.at(-1)!,
    /run-lambda: result \(\d+ bytes\) written to s3:\/\//,
    "the runner's own last word",
  );
  const times = lines.map((l) => Date.parse(l.split(' ')[0]!));
  assert.ok(
    times.every((t, i) => !Number.isNaN(t) && (i === 0 || t >= times[i - 1]!)),
    'timestamped, oldest first',
  );
  const j = JSON.parse((await w.cli(['logs', a.job_id, '--json'])).stdout);
  assert.equal(j.streams.length, 1);
  assert.equal(j.streams[0].group, LOG_GROUP);
  assert.match(j.streams[0].stream, STREAM);
  assert.equal(j.events.length, lines.length);
  // The same stream is the one DescribeJobs names for the job's container.
  const status = JSON.parse((await w.cli(['status', a.job_id, '--json'])).stdout);
  assert.equal(status.job.containers[0].log_stream, j.streams[0].stream);
});

test("an array child's log with --index: that child's items only; an index past the array is refused", async () => {
  const a = await w.dispatch({
    lambda_function: TASK,
    payloads: [{ n: 20 }, { n: 21 }, { n: 22 }, { n: 23 }],
    items_per_job: 2,
  });
  await w.runArray(a.job_id);
  const r = await w.cli(['logs', a.job_id, '--index', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / item 22 starts$/m);
  assert.match(r.stdout, / item 23 starts$/m);
  assert.doesNotMatch(r.stdout, /item 2[01] /);
  const past = await w.cli(['logs', a.job_id, '--index', '2']);
  assert.equal(past.code, 2);
  assert.equal(past.last, `lambda-batch: job ${a.job_id} has 2 children (0 to 1); --index 2 is past them`);
  const single = await w.dispatch({ lambda_function: TASK, payload: { n: 24 } });
  const notArray = await w.cli(['logs', single.job_id, '--index', '0']);
  assert.equal(notArray.code, 2);
  assert.equal(
    notArray.last,
    `lambda-batch: job ${single.job_id} is not an array job; --index names a child of one`,
  );
});

test('--attempt: a retried job keeps each attempt in its own stream; the latest by default', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 30, sleep: 3 } });
  // The first attempt is stopped (SIGTERM) before its item ends, as a lost Spot task would be.
  const first = await w.run(a.job_id, { killAfterMs: 1500 });
  assert.equal(first.exitCode, 143, first.stderr);
  assert.equal((await w.run(a.job_id, { attempt: 2 })).exitCode, 0);
  const one = await w.cli(['logs', a.job_id, '--attempt', '1', '--json']);
  const two = await w.cli(['logs', a.job_id, '--attempt', '2', '--json']);
  const latest = await w.cli(['logs', a.job_id, '--json']);
  const messages = (r: { stdout: string }) =>
    (JSON.parse(r.stdout).events as { message: string }[]).map((e) => e.message).join('\n');
  assert.match(messages(one), /item 30 starts/);
  assert.doesNotMatch(
    messages(one),
    /result \(\d+ bytes\) written/,
    'the first attempt never finished its item',
  );
  assert.match(messages(two), /result \(\d+ bytes\) written/);
  assert.notEqual(JSON.parse(one.stdout).streams[0].stream, JSON.parse(two.stdout).streams[0].stream);
  assert.deepEqual(JSON.parse(latest.stdout).streams, JSON.parse(two.stdout).streams);
  const none = await w.cli(['logs', a.job_id, '--attempt', '3']);
  assert.equal(none.code, 2);
  assert.equal(none.last, `lambda-batch: job ${a.job_id} has 2 attempt(s); --attempt 3 is none of them`);
});

test('--follow prints the events as the job writes them and ends when it does', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 40, sleep: 3 } });
  w.h.front.batchJobs.queued(a.job_id);
  const following = w.cli(['logs', a.job_id, '--follow', '--interval', '0.2']);
  await new Promise((r) => setTimeout(r, 500));
  const run = w.run(a.job_id);
  let ended = 0;
  void run.then(() => {
    ended = Date.now();
  });
  const r = await following;
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await run).exitCode, 0);
  assert.match(r.stderr, /^following job \S+: reading every 0\.2 s until it ends \(at most 3600 s\)$/m);
  const started = r.chunks.find((c) => /item 40 starts/.test(c.text));
  assert.ok(started, r.stdout);
  assert.ok(started.at < ended - 1000, 'the first line came while the item still slept');
  assert.match(r.stdout, /result \(\d+ bytes\) written/, 'and the last ones once it ended');
});

test('--follow gives up at --max-wait with exit 75; a job with no stream yet says so and exits 75', async () => {
  const a = await w.dispatch({ lambda_function: TASK, payload: { n: 50 } });
  w.h.front.batchJobs.queued(a.job_id);
  const r = await w.cli(['logs', a.job_id, '--follow', '--interval', '0.2', '--max-wait', '1']);
  assert.equal(r.code, 75, r.stderr);
  assert.equal(r.last, `job ${a.job_id} is still RUNNABLE after 1 s; stopped following`);
  const now = await w.cli(['logs', a.job_id]);
  assert.equal(now.code, 75);
  assert.equal(now.last, `job ${a.job_id} is RUNNABLE: no log stream yet (a container has one once it runs)`);
});
