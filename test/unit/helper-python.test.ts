// The Python half of the helper: its own unittest suite, and its keys and limits agreeing with lib/ (which it cannot
// import): each case is built in TypeScript and answered by python3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DEFAULT_PAYLOAD_PREFIX } from '../../functions/helper/config.js';
import { itemInput, MAX_ITEMS } from '../../lib/item-set.js';
import { RUN_LAMBDA_JOB } from '../../lib/job-plan.js';
import { parseFunctionRef, regionFromArn } from '../../lib/lambda-arn.js';
import { keyProblem } from '../../lib/object-id.js';
import { itemSetRef, payloadKey } from '../../lib/payload-keys.js';

const PYTHONPATH = new URL('../../functions/helper/python', import.meta.url).pathname;
const TESTS = new URL('../python', import.meta.url).pathname;

test('the cirrus_batch unittest suite passes with the machine python3', () => {
  const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', TESTS, '-p', 'test_*.py'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /Ran [1-9]\d* tests/);
});

/** `script` run by the machine python3 with the helper on its path, `input` on its stdin; its stdout as JSON. */
function python(script: string, input: unknown): unknown {
  const run = spawnSync('python3', ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const PREFIXES = ['batch/', 'batch', '', '/deep/prefix/'];

test('Python payload keys follow the same layout as the dispatcher for every prefix form', () => {
  const cases: [string, string, string][] = [
    ['batch/', 'feeder', 'id-1'],
    ['batch', 'feeder', 'id-2'],
    ['', 'feeder', 'id-3'],
    ['/deep/prefix/', 'my_fn-2', 'id-4'],
  ];
  const script = [
    'import json, sys, cirrus_batch',
    'print(json.dumps([cirrus_batch.payload_key(*c) for c in json.load(sys.stdin)]))',
  ].join('\n');
  assert.deepEqual(
    python(script, cases),
    cases.map(([prefix, fn, id]) => payloadKey(prefix, fn, id)),
  );
});

test("Python item keys are lib/item-set.ts's: <prefix><function>/<id>/in/<i>.json for every prefix, id and index", () => {
  const cases: [string, string, string, number][] = PREFIXES.flatMap((prefix, p) =>
    [0, 1, 9, 10, 123, 9999].map((i): [string, string, string, number] => [
      prefix,
      p % 2 ? 'my_fn-2' : 'feeder',
      ['set-1', 'a.b_c-9', randomUUID()][i % 3]!,
      i,
    ]),
  );
  const script = [
    'import json, sys, cirrus_batch',
    'print(json.dumps([cirrus_batch.item_key(*c) for c in json.load(sys.stdin)]))',
  ].join('\n');
  assert.deepEqual(
    python(script, cases),
    cases.map(([prefix, fn, id, i]) => itemInput(itemSetRef({ bucket: 'b', prefix }, fn, id).inPrefix, i)),
  );
});

test("the Python helper holds lib/'s limits and names: 10,000 items a set, the batch/ prefix, the runner's mark", () => {
  const script = [
    'import json, sys, cirrus_batch',
    'mark = json.load(sys.stdin)',
    'print(json.dumps([cirrus_batch.MAX_ITEMS, cirrus_batch.DEFAULT_PAYLOAD_PREFIX,',
    '                  cirrus_batch.is_batch_job({mark: "1"}), cirrus_batch.is_batch_job({mark: "0"})]))',
  ].join('\n');
  assert.deepEqual(python(script, RUN_LAMBDA_JOB), [MAX_ITEMS, DEFAULT_PAYLOAD_PREFIX, true, false]);
});

test("Python reads function references, their regions and idempotency keys as lib/ does (Lambda's limits, no newline)", () => {
  const head = 'arn:aws:lambda:us-east-1:123456789012:function:';
  const name = 'n'.repeat(64);
  const refs = [
    'task',
    'task:prod',
    'task:$LATEST',
    '123456789012:function:task:7',
    'eu-west-1:123456789012:function:task',
    `${head}task`,
    'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:task:live',
    'arn:aws-iso:lambda:us-iso-east-1:123456789012:function:task',
    name,
    `${name}x`,
    `task:${'a'.repeat(128)}`,
    `task:${'a'.repeat(129)}`,
    `${head}${name}:${'a'.repeat(170 - head.length - 65)}`,
    `${head}${name}:${'a'.repeat(171 - head.length - 65)}`,
    'task\n',
    'my task',
    'f.py',
    'arn:aws:s3:::bucket',
  ];
  const keys = [
    'feed-2026_12.01',
    'k\n',
    '.hidden',
    'a'.repeat(128),
    'a'.repeat(129),
    'k.dispatch',
    'k_out',
    '../x',
  ];
  const script = [
    'import json, sys, cirrus_batch',
    'refs, keys = json.load(sys.stdin)',
    'def name(r):',
    '    try:',
    '        return cirrus_batch._function_name(r)',
    '    except ValueError:',
    '        return None',
    'def key_ok(k):',
    '    try:',
    '        return cirrus_batch._check_key(k) == k',
    '    except cirrus_batch.BatchDispatchError:',
    '        return False',
    'print(json.dumps([[[name(r), cirrus_batch._region_of(r)] for r in refs], [key_ok(k) for k in keys]]))',
  ].join('\n');
  assert.deepEqual(python(script, [refs, keys]), [
    refs.map((r) => [parseFunctionRef(r)?.name ?? null, regionFromArn(r) ?? null]),
    keys.map((k) => keyProblem(k) === undefined),
  ]);
});
