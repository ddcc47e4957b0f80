// lambda-batch's arguments, against the built bundle: a table of argv → exit code and last line for every usage error
// (each named, under the one usage text), --help and --version on stdout; none of them makes an AWS call (no
// endpoint answers here, so one would fail differently). The cost arithmetic and the price table's shape.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { parseArgs, parseSince } from '../../ops/args.js';
import { estimateCost, PRICES } from '../../ops/cost.js';

const CLI = new URL('../../dist/lambda-batch.mjs', import.meta.url).pathname;
const JOB = '0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    // An endpoint nothing listens on: a command that reached AWS would fail with a connection error instead.
    env: { PATH: process.env.PATH, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' },
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    last: r.stderr.trim().split('\n').at(-1) ?? '',
  };
}

const usageErrors: [string[], RegExp][] = [
  [[], /a command is required: status, logs, redrive, list or cancel/],
  [['stats', JOB], /unknown command "stats"/],
  [['status'], /status needs <job-id \| record-url>/],
  [['status', 'job-1'], /"job-1" is not a Batch job id/],
  [['status', JOB, JOB], /status takes one argument, got also/],
  [['status', JOB, '--colour'], /Unknown option '--colour'/],
  [['status', JOB, '--follow'], /--follow does not go with status/],
  [['status', 's3://B_ad/x.run.json'], /invalid bucket name/],
  [['logs', JOB, '--index', '-1'], /--index/],
  [['logs', JOB, '--index', '10000'], /--index must be a whole number from 0 to 9999, got "10000"/],
  [['logs', JOB, '--index', 'two'], /--index must be a whole number from 0 to 9999, got "two"/],
  [['logs', JOB, '--attempt', '0'], /--attempt must be a whole number from 1 to 10/],
  [['logs', JOB, '--interval', '1'], /--interval and --max-wait go with --follow/],
  [['logs', JOB, '--follow', '--interval', '0'], /--interval must be a number of seconds ≥ 0.1/],
  [['list', JOB], /list takes no argument/],
  [['list', '--since', 'yesterday'], /--since must be an ISO time .* or an age/],
  [['list', '--limit', '0'], /--limit must be a whole number from 1/],
  [['list', '--function', 'my task', '--bucket', 'b'], /--function: "my task" is not a Lambda function name/],
  [
    ['redrive', JOB],
    /redrive goes through the deployed dispatcher: give --dispatcher <name> or set BATCH_DISPATCHER_FUNCTION/,
  ],
  [['cancel', JOB, '--reason', ''], /--reason must not be empty/],
  [['list'], /list reads the dispatcher's records: give --bucket/],
];

for (const [args, last] of usageErrors)
  test(`lambda-batch ${args.join(' ') || '(nothing)'} → exit 2, the usage text and the problem named`, () => {
    const r = cli(args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.last, /^lambda-batch: /);
    assert.match(r.last, last);
    assert.match(r.stderr, /^Usage: lambda-batch <command> \[options\]/);
    assert.equal(r.stdout, '', 'nothing on stdout');
  });

test('--help prints the usage text on stdout and exits 0; --version the version; both win over a bad argument', () => {
  for (const args of [['--help'], ['status', '--help'], ['-h', 'nope']]) {
    const r = cli(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: lambda-batch <command> \[options\]/);
    assert.match(r.stdout, /Exit codes: 0 done/);
  }
  const v = cli(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^lambda-batch \d+\.\d+\.\d+\n$/);
});

test('a job is named by its id, a child by <id>:<i>, or by its ARN (whose region then wins over the default)', () => {
  const parsed = (args: string[]) => {
    const p = parseArgs(args);
    assert.equal(p.kind, 'run');
    return (p as Extract<typeof p, { kind: 'run' }>).invocation;
  };
  assert.deepEqual(parsed(['status', `${JOB}:7`]).job, { id: `${JOB}:7` });
  assert.deepEqual(parsed(['cancel', `arn:aws:batch:eu-west-1:123456789012:job/${JOB}`]).job, {
    id: JOB,
    region: 'eu-west-1',
  });
  assert.equal(parsed(['status', 's3://bkt/k_out.run.json']).recordUrl, 's3://bkt/k_out.run.json');
  const now = Date.parse('2026-12-07T12:00:00Z');
  assert.equal(parseSince('6h', now), Date.parse('2026-12-07T06:00:00Z'));
  assert.equal(parseSince('2026-12-01T08:00Z', now), Date.parse('2026-12-01T08:00:00Z'));
});

test("the cost: vCPU- and GiB-seconds from the attempts' times; Fargate dollars with a one-minute minimum per task", () => {
  const runs = [
    // 30 s, billed as 60; 120 s as 120; an attempt with no start is not counted.
    {
      attempts: [{ startedAt: 0, stoppedAt: 30_000, containers: [] }],
      resources: { vcpus: 1, memoryMiB: 2048 },
    },
    {
      attempts: [{ startedAt: 0, stoppedAt: 120_000, containers: [] }, { containers: [] }],
      resources: { vcpus: 1, memoryMiB: 2048 },
    },
  ];
  const c = estimateCost(runs, ['FARGATE', 'FARGATE_SPOT', 'EC2'], 'arm64', 0);
  assert.equal(c.vcpuSeconds, 150);
  assert.equal(c.gibSeconds, 300);
  assert.deepEqual([c.attempts, c.uncounted], [2, 1]);
  const od = PRICES.fargate.arm64;
  const expected = (180 / 3600) * (od.vcpu_hour + 2 * od.gb_hour);
  assert.deepEqual(
    c.dollars.map((d) => d.capacity),
    ['FARGATE', 'FARGATE_SPOT'],
    'EC2 is not priced',
  );
  assert.ok(Math.abs(c.dollars[0]!.usd - expected) < 1e-12, `${c.dollars[0]!.usd} vs ${expected}`);
  assert.ok(c.dollars[1]!.usd < c.dollars[0]!.usd);
  // A running attempt counts up to now.
  const running = estimateCost(
    [{ attempts: [{ startedAt: 0, containers: [] }], resources: { vcpus: 2, memoryMiB: 1024 } }],
    ['EC2'],
    'x86_64',
    10_000,
  );
  assert.deepEqual([running.vcpuSeconds, running.gibSeconds, running.dollars.length], [20, 10, 0]);
});

test('the price table names its region, source and date, and has every Fargate kind and architecture', () => {
  assert.equal(PRICES.region, 'us-east-1');
  assert.match(PRICES.source, /^https:\/\/aws\.amazon\.com\/fargate\/pricing\//);
  assert.match(PRICES.retrieved, /^\d{4}-\d{2}-\d{2}$/);
  assert.equal(PRICES.minimum_seconds, 60);
  for (const kind of [PRICES.fargate, PRICES.fargate_spot])
    for (const arch of [kind.x86_64, kind.arm64]) assert.ok(arch.vcpu_hour > 0 && arch.gb_hour > 0);
  assert.match(PRICES.fargate_spot.note, /estimate|low/);
});
