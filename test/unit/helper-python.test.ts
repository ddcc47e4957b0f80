// The Python half of the helper: its own unittest suite, and its payload keys agreeing with lib/payload-store.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { payloadKey } from '../../lib/payload-store.js';

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
  const run = spawnSync('python3', ['-c', script], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(
    JSON.parse(run.stdout),
    cases.map(([prefix, fn, id]) => payloadKey(prefix, fn, id)),
  );
});
