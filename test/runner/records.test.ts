// Run records of local runs: beside a file result, none for stdout unless --record names a place, none beside a device,
// never onto the payload; a local function's record has no ARN, version or code hash; a data: payload is `data:`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parseRunRecordJson } from '../../lib/run-record.js';
import { fx, runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'records-'));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const py = ['--handler', 'handlers.echo'];

test('records: beside a file result (.json → .run.json), with the local file URLs, hashes and no deployed identity', async () => {
  const payload = join(dir, 'in.json');
  writeFileSync(payload, '{"k": "secret-local-9"}');
  const out = join(dir, 'out.json');
  const r = await runCli([...py, fx('python-fn'), payload, out], {
    env: { RUN_LAMBDA_IMAGE_RUNTIME: 'python3.12' },
  });
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(dir, 'out.run.json'), 'utf8');
  const rec = parseRunRecordJson(text);
  assert.equal(rec.status, 'succeeded');
  assert.deepEqual(rec.function, {
    arn: null,
    version: null,
    runtime: 'python3.12',
    handler: 'handlers.echo',
    code_sha256: null,
    architecture: null,
  });
  assert.deepEqual(rec.layers, []);
  assert.equal(rec.runner.image_runtime, 'python3.12');
  assert.equal(rec.batch, undefined, 'not in Batch');
  assert.deepEqual(rec.payload, {
    url: pathToFileURL(payload).href,
    bytes: readFileSync(payload).length,
    sha256: sha(readFileSync(payload)),
  });
  const result = readFileSync(out);
  assert.deepEqual(rec.result, { url: pathToFileURL(out).href, bytes: result.length, sha256: sha(result) });
  assert.ok(!text.includes('secret-local-9'));
});

test('records: none for stdout; --record names a place for one; a data: payload is recorded as data:, never its contents', async () => {
  const before = readdirSync(dir).length;
  const data = `data:application/json;base64,${Buffer.from('{"pin":"4321-secret"}').toString('base64')}`;
  const plain = await runCli([...py, fx('python-fn'), data]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(readdirSync(dir).length, before, 'no record anywhere');
  const place = join(dir, 'stdout-run.json');
  const r = await runCli(['--record', place, ...py, fx('python-fn'), data, '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { pin: '4321-secret' });
  const text = readFileSync(place, 'utf8');
  const rec = parseRunRecordJson(text);
  assert.equal(rec.payload?.url, 'data:');
  assert.equal(rec.result?.url, '-');
  assert.equal(rec.payload?.sha256, sha('{"pin":"4321-secret"}'));
  assert.ok(!text.includes('4321-secret') && !text.includes(data.slice(30)));
});

test('records: a failed run with --record (stdin payload) has the error and the hashed payload', async () => {
  const place = join(dir, 'failed-run.json');
  const r = await runCli(
    ['--record', place, '--handler', 'handlers.value_error', fx('python-fn'), '-', '-'],
    {
      input: '{"x": 1}',
    },
  );
  assert.equal(r.code, 1, r.stderr);
  const rec = parseRunRecordJson(readFileSync(place, 'utf8'));
  assert.equal(rec.exit_code, 1);
  assert.equal(rec.error?.errorType, 'ValueError');
  assert.deepEqual(rec.payload, { url: '-', bytes: 8, sha256: sha('{"x": 1}') });
});

test('records: none beside a device (no /dev/null.run.json)', async () => {
  const r = await runCli([...py, fx('python-fn'), fx('payload.json'), '/dev/null']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync('/dev/null.run.json'), false);
});

test('records: a record whose place is the payload itself is not written (the input is never overwritten)', async () => {
  const payload = join(dir, 'same.run.json');
  writeFileSync(payload, '{"a": 1}');
  const r = await runCli([...py, fx('python-fn'), payload, join(dir, 'same.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(payload, 'utf8'), '{"a": 1}');
  assert.match(r.stderr, /no run record: its place is the payload itself/);
});

test('records: --record - (stdout) is a usage error before anything runs', async () => {
  const r = await runCli(['--record', '-', ...py, fx('python-fn'), fx('payload.json'), '-']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.last, /^UsageError: --record must name a place/);
});

test('records: a Batch attempt that is no number from 1 to 10 is a usage error before anything runs', async () => {
  const r = await runCli([...py, fx('python-fn'), fx('payload.json'), '-'], {
    env: { AWS_BATCH_JOB_ID: 'j', AWS_BATCH_JOB_ATTEMPT: 'eleven' },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.last,
    /^UsageError: AWS_BATCH_JOB_ATTEMPT must be a whole number from 1 to 10, got "eleven"$/,
  );
});
