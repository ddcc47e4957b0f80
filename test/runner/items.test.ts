// Item sets on local folders (docs/runner.md "Item sets (array jobs)"): child j of k items each runs [j*k, min(j*k+k, n)) in one
// runtime process (init once), each item's result, record and error part under the output prefix as it ends; a crash
// or a timeout fails its item and a fresh runtime takes the next; a retried child skips finished items; bad sets are
// usage errors before anything runs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunErrorJson, parseRunRecordJson } from '../../lib/run-record.js';
import { fx, runCli } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'items-'));
let n = 0;

/** A set folder `in/` of `events` (item i = events[i], or raw text) and an empty `out/`. */
function makeSet(events: (Record<string, unknown> | string | null)[]) {
  const dir = join(root, `set-${++n}`);
  mkdirSync(join(dir, 'in'), { recursive: true });
  mkdirSync(join(dir, 'out'));
  events.forEach((e, i) => {
    if (e === null) return;
    writeFileSync(join(dir, 'in', `${i}.json`), typeof e === 'string' ? e : JSON.stringify({ i, ...e }));
  });
  const read = (name: string) => readFileSync(join(dir, 'out', name), 'utf8');
  return {
    dir,
    in: `${join(dir, 'in')}/`,
    out: `${join(dir, 'out')}/`,
    files: () => readdirSync(join(dir, 'out')).sort(),
    result: (i: number) => JSON.parse(read(`${i}.json`)),
    record: (i: number) => parseRunRecordJson(read(`${i}.run.json`)),
    error: (i: number) => parseRunErrorJson(read(`${i}.error.json`)),
  };
}

const handler = ['--handler', 'items.handler'];
const runSet = (
  s: { in: string; out: string },
  args: string[],
  env: Record<string, string> = {},
  opts = {},
) => runCli([...handler, ...args, fx('set-fn'), s.in, s.out], { env, ...opts });

test('item set: child 1 of 2 per child runs items 2 and 3 in one runtime (init once), results and records at <out><i>', async () => {
  const s = makeSet([{}, {}, {}, {}, {}]);
  const r = await runSet(s, ['--item-count', '5', '--items-per-job', '2'], {
    AWS_BATCH_JOB_ARRAY_INDEX: '1',
    AWS_BATCH_JOB_ID: 'arr-1:1',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(s.files(), ['2.json', '2.run.json', '3.json', '3.run.json']);
  const [a, b] = [s.result(2), s.result(3)];
  assert.deepEqual([a.i, b.i], [2, 3]);
  assert.equal(a.pid, b.pid, 'one runtime process');
  assert.deepEqual([a.served, b.served], [1, 2], 'its init ran once');
  const rec = s.record(3);
  assert.equal(rec.status, 'succeeded');
  assert.equal(rec.request_id, b.request_id);
  assert.deepEqual(rec.batch, { job_id: 'arr-1:1', attempt: 1, array_index: 1 });
  assert.equal(rec.payload?.url, `file://${s.in}3.json`);
  assert.equal(rec.result?.url, `file://${s.out}3.json`);
});

test('item set: the env twins and the last child (fewer items); no index means child 0', async () => {
  const s = makeSet([{}, {}, {}]);
  const r = await runSet(s, [], {
    RUN_LAMBDA_ITEM_COUNT: '3',
    RUN_LAMBDA_ITEMS_PER_JOB: '2',
    AWS_BATCH_JOB_ARRAY_INDEX: '1',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(s.files(), ['2.json', '2.run.json']);
  const t = makeSet([{}, {}, {}]);
  const r0 = await runSet(t, ['--item-count', '3', '--items-per-job', '2']);
  assert.equal(r0.code, 0, r0.stderr);
  assert.deepEqual(t.files(), ['0.json', '0.run.json', '1.json', '1.run.json']);
});

test('item set: a failing item leaves its error part and record, the others succeed; exit 1 naming it', async () => {
  const s = makeSet([{}, { do: 'fail' }, {}]);
  const r = await runSet(s, ['--item-count', '3', '--items-per-job', '3']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.last,
    /^ItemsFailedError: 1 of 3 items failed: 1 \(ValueError\); their errors are at .*out\/<i>\.error\.json$/,
  );
  assert.deepEqual(s.files(), ['0.json', '0.run.json', '1.error.json', '1.run.json', '2.json', '2.run.json']);
  assert.equal(s.error(1).errorType, 'ValueError');
  assert.equal(s.error(1).errorMessage, 'item 1 is bad');
  const rec = s.record(1);
  assert.deepEqual([rec.status, rec.exit_code], ['failed', 1]);
  assert.deepEqual(rec.error, s.error(1), 'the error part is the record’s error');
  assert.equal(s.result(0).pid, s.result(2).pid, 'a handler error does not cost the runtime');
});

test('item set: a handler that crashes the runtime fails its item; a fresh runtime serves the next', async () => {
  const s = makeSet([{}, { do: 'crash' }, {}]);
  const r = await runSet(s, ['--item-count', '3', '--items-per-job', '3']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(s.error(1).errorType, 'Runtime.ExitError');
  assert.equal(s.error(1).errorMessage, 'runtime exited with code 3 before it returned a result');
  assert.ok(s.record(1).timings.initialized, 'the crashed runtime had been initialized');
  assert.ok(s.record(1).request_id);
  assert.notEqual(s.result(0).pid, s.result(2).pid, 'started again');
  assert.equal(s.result(2).served, 1);
});

test('item set: an item that SIGKILLs the runtime fails alone (Runtime.ExitError); the next item runs on a fresh runtime', async () => {
  const s = makeSet([{}, { do: 'kill' }, {}]);
  const r = await runSet(s, ['--item-count', '3', '--items-per-job', '3']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.last, /^ItemsFailedError: 1 of 3 items failed: 1 \(Runtime\.ExitError\)/);
  assert.equal(s.error(1).errorMessage, 'runtime was killed with SIGKILL before it returned a result');
  assert.notEqual(s.result(0).pid, s.result(2).pid, 'started again');
  assert.equal(s.result(2).served, 1);
});

test('item set: an item the OOM killer ends fails as Runtime.OutOfMemory (the cgroup’s count rose while its runtime ran); the next runs on a fresh runtime', async () => {
  const s = makeSet([{}, { do: 'kill' }, {}]);
  const events = join(s.dir, 'memory.events');
  writeFileSync(events, 'oom 0\noom_kill 0\n');
  // The kernel counts the kill before it sends SIGKILL: item 1's event bumps the count as it starts.
  writeFileSync(join(s.in, '1.json'), JSON.stringify({ i: 1, do: 'kill', bump: events }));
  const r = await runSet(s, ['--item-count', '3', '--items-per-job', '3', '--memory-events', events]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.last, /1 of 3 items failed: 1 \(Runtime\.OutOfMemory\)/);
  assert.match(
    s.error(1).errorMessage,
    /by the out-of-memory killer \(its cgroup's oom_kill count rose from 0 to 1\)/,
  );
  assert.equal(s.record(1).exit_code, 1);
  assert.equal(s.result(2).i, 2);
});

test('item set: a timeout (the deadline per item) fails its item with 124 in its record; the next one runs', async () => {
  const s = makeSet([{ do: 'sleep', seconds: 30 }, {}]);
  const r = await runSet(s, ['--item-count', '2', '--items-per-job', '2', '--timeout', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.last, /^ItemsFailedError: 1 of 2 items failed: 0 \(TimeoutError\)/);
  assert.deepEqual([s.record(0).exit_code, s.record(0).error?.errorType], [124, 'TimeoutError']);
  assert.equal(s.result(1).i, 1);
});

test('item set: with --job-timeout each item’s remaining time is the job’s, shrinking item by item, never its own longer --timeout', async () => {
  const s = makeSet([
    { do: 'pause', seconds: 1 },
    { do: 'pause', seconds: 1 },
    { do: 'pause', seconds: 0 },
  ]);
  const r = await runSet(s, [
    '--item-count',
    '3',
    '--items-per-job',
    '3',
    '--timeout',
    '600',
    '--job-timeout',
    '60',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const left = [0, 1, 2].map((i) => s.result(i).remaining as number);
  assert.ok(left[0]! <= 50_000 && left[0]! > 40_000, `item 0: ${left[0]} ms (60 s less the 10 s margin)`);
  assert.ok(left[1]! <= left[0]! - 1000, `item 1: ${left[1]} ms, after item 0's 1 s`);
  assert.ok(left[2]! <= left[1]! - 1000, `item 2: ${left[2]} ms, after item 1's 1 s`);
});

test('item set: the job’s end ends the child: the item it was on fails with 124 (JobTimeoutError) in its record, the later ones are left unwritten; exit 124', async () => {
  const s = makeSet([{}, { do: 'sleep', seconds: 30 }, {}]);
  const r = await runSet(s, ['--item-count', '3', '--items-per-job', '3', '--job-timeout', '6']);
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.last, /^JobTimeoutError: the job's time ran out \(--job-timeout 6 s/);
  assert.deepEqual(s.files(), ['0.json', '0.run.json', '1.error.json', '1.run.json']);
  assert.deepEqual([s.record(1).exit_code, s.error(1).errorType], [124, 'JobTimeoutError']);
});

test('item set: a retried child skips the items whose result and record exist and runs the others (a result without its record, of an attempt killed between the two, too)', async () => {
  const s = makeSet([{}, {}, {}, {}]);
  const log = join(s.dir, 'invoked.log');
  for (let i = 0; i < 4; i++) writeFileSync(join(s.in, `${i}.json`), JSON.stringify({ i, log }));
  writeFileSync(join(s.out, '1.json'), '{"from": "attempt 1"}');
  writeFileSync(join(s.out, '1.run.json'), '{"from": "attempt 1"}');
  writeFileSync(join(s.out, '3.json'), '{"half": "killed before its record"}');
  const r = await runSet(s, ['--item-count', '4', '--items-per-job', '4'], {
    AWS_BATCH_JOB_ID: 'j',
    AWS_BATCH_JOB_ATTEMPT: '2',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['0', '2', '3']);
  assert.deepEqual(s.result(1), { from: 'attempt 1' }, 'left as it was');
  assert.equal(readFileSync(join(s.out, '1.run.json'), 'utf8'), '{"from": "attempt 1"}');
  assert.equal(s.result(3).i, 3, 'run again: its result is this attempt’s');
  assert.equal(s.record(2).batch?.attempt, 2);
});

test('item set: a missing item and one that is not JSON fail alone (exit 2 in their records); the rest run', async () => {
  const s = makeSet([{}, null, '{"i": 2, oops', {}]);
  const r = await runSet(s, ['--item-count', '4', '--items-per-job', '4']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.last, /2 of 4 items failed: 1 \(PayloadAccessError\), 2 \(InvalidPayloadError\)/);
  assert.deepEqual([s.record(1).exit_code, s.record(2).exit_code], [2, 2]);
  assert.equal(s.record(1).payload, null);
  assert.deepEqual([s.result(0).i, s.result(3).i], [0, 3]);
  assert.ok(
    !readFileSync(join(s.out, '2.run.json'), 'utf8').includes('oops'),
    'no payload text in the record',
  );
});

test('item set: an init error fails every item with it', async () => {
  const s = makeSet([{}, {}]);
  const r = await runCli([
    '--handler',
    'broken.handler',
    '--item-count',
    '2',
    '--items-per-job',
    '2',
    fx('set-fn'),
    s.in,
    s.out,
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.last,
    /2 of 2 items failed: 0 \(Runtime\.ImportModuleError\), 1 \(Runtime\.ImportModuleError\)/,
  );
});

test('item set: SIGTERM stops the child (143): the item it was on has a 143 record, the later ones nothing', async () => {
  const s = makeSet([{}, { do: 'sleep', seconds: 30, start_marker: true }, {}]);
  let sent = false;
  const r = await runSet(
    s,
    ['--item-count', '3', '--items-per-job', '3'],
    {},
    {
      onStderr(text: string, child: { kill(sig: string): void }) {
        if (!sent && text.includes('item 1 started')) {
          sent = true;
          child.kill('SIGTERM');
        }
      },
    },
  );
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.last, 'StoppedBySignalError: stopped by SIGTERM');
  assert.deepEqual(s.files(), ['0.json', '0.run.json', '1.error.json', '1.run.json']);
  assert.equal(s.record(1).exit_code, 143);
});

const usage: [string, string[], Record<string, string>, RegExp][] = [
  ['no count', [], {}, /^UsageError: --item-count \(RUN_LAMBDA_ITEM_COUNT\) is required for an item set/],
  [
    'a count of 0',
    ['--item-count', '0'],
    {},
    /--item-count \(RUN_LAMBDA_ITEM_COUNT\) must be a whole number from 1 to 10000, got "0"/,
  ],
  [
    'a count over 10,000',
    ['--item-count', '10001'],
    {},
    /must be a whole number from 1 to 10000, got "10001"/,
  ],
  [
    'a count that is no number',
    [],
    { RUN_LAMBDA_ITEM_COUNT: 'ten' },
    /RUN_LAMBDA_ITEM_COUNT\) must be a whole number/,
  ],
  [
    'items per job 0',
    ['--item-count', '4', '--items-per-job', '0'],
    {},
    /--items-per-job \(RUN_LAMBDA_ITEMS_PER_JOB\) must be/,
  ],
  [
    'an index past the end',
    ['--item-count', '10', '--items-per-job', '5'],
    { AWS_BATCH_JOB_ARRAY_INDEX: '2' },
    /^UsageError: AWS_BATCH_JOB_ARRAY_INDEX 2 is past the end of the set: 10 items, 5 per job make 2 children \(0 to 1\)$/,
  ],
  [
    'a bad index',
    ['--item-count', '10'],
    { AWS_BATCH_JOB_ARRAY_INDEX: '-1' },
    /AWS_BATCH_JOB_ARRAY_INDEX must be a whole number/,
  ],
  [
    '--record with a set',
    ['--item-count', '1', '--record', '/tmp/r.json'],
    {},
    /^UsageError: --record names one run's record/,
  ],
];
for (const [name, args, env, last] of usage) {
  test(`item set: bad usage: ${name} → exit 2, nothing run`, async () => {
    const s = makeSet([{}]);
    const r = await runSet(s, args, env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.last, last);
    assert.deepEqual(s.files(), []);
  });
}

test('item set: bad outputs are usage errors before anything runs (none, not ending in /, stdout; the set itself; no folder)', async () => {
  const s = makeSet([{}]);
  const cases: [string | undefined, RegExp][] = [
    [undefined, /^UsageError: an item set needs an <output-url> ending in \/ .*got none$/],
    [join(s.dir, 'out.json'), /^UsageError: an item set needs an <output-url> ending in \//],
    ['-', /^UsageError: an item set needs an <output-url> ending in \//],
    [s.in, /^InvalidOutputError: the output prefix .* is the item set itself/],
    [
      `${join(s.dir, 'nowhere')}/`,
      /^InvalidOutputError: cannot write the item set's results to .*nowhere\/: no folder/,
    ],
  ];
  for (const [out, last] of cases) {
    const r = await runCli([...handler, '--item-count', '1', fx('set-fn'), s.in, ...(out ? [out] : [])]);
    assert.equal(r.code, 2, `${out}: ${r.stderr}`);
    assert.match(r.last, last);
  }
  assert.deepEqual(s.files(), []);
});

test('item set: --item-count with one payload (not ending in /) is a usage error', async () => {
  const r = await runCli([...handler, '--item-count', '3', fx('set-fn'), fx('payload.json'), '-']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.last, /^UsageError: --item-count \(RUN_LAMBDA_ITEM_COUNT\) is for an item set/);
});
