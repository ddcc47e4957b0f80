import assert from 'node:assert/strict';
import { cpSync, createWriteStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import yazl from 'yazl';
import { fx, runCli } from './helpers.js';

test('custom runtime: a bootstrap in the task root serves the invocation (with _HANDLER set)', async () => {
  const r = await runCli(['--handler', 'my.handler', fx('custom-fn'), fx('payload.json'), '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { custom: { a: 1 }, handler: 'my.handler' });
  assert.match(r.stderr, /custom runtime got request [0-9a-f-]{36}/);
  assert.match(r.stderr, /on provided\.al2023, served by bootstrap in the task root/);
});

test('custom runtime: a bootstrap in the opt dir serves a function that has none', async () => {
  const opt = mkdtempSync(join(tmpdir(), 'opt-'));
  cpSync(fx('custom-fn', 'bootstrap'), join(opt, 'bootstrap'));
  const r = await runCli([
    '--opt-dir',
    opt,
    '--runtime',
    'provided.al2023',
    '--handler',
    'h',
    fx('empty-fn'),
    fx('payload.json'),
    '-',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { custom: { a: 1 }, handler: 'h' });
});

test('compat cirrus-v0: task.handler is called with the event alone, output to <payload>_out.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cirrus-'));
  const p = join(dir, 'item.json');
  writeFileSync(p, readFileSync(fx('cirrus-fn', 'payload.json')));
  const r = await runCli(['--compat', 'cirrus-v0', fx('cirrus-fn'), p]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'item_out.json'), 'utf8')), {
    id: 'cirrus-1',
    features: [],
    process: { tasks: ['done'] },
  });
  assert.deepEqual(JSON.parse(readFileSync(p, 'utf8')), { id: 'cirrus-1', features: [] }, 'input untouched');
});

test('compat cirrus-v0 from the env twin; without it the one-argument handler gets a context and fails', async () => {
  const r = await runCli([fx('cirrus-fn'), fx('cirrus-fn', 'payload.json'), '-'], {
    env: { RUN_LAMBDA_COMPAT: 'cirrus-v0' },
  });
  assert.equal(r.code, 0, r.stderr);
  const plain = await runCli([fx('cirrus-fn'), fx('cirrus-fn', 'payload.json'), '-']);
  assert.equal(plain.code, 1);
  assert.match(plain.last, /^TypeError: handler\(\) takes 1 positional argument but 2 were given$/);
});

test('a .zip of function code is extracted to a temporary folder and run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zipfn-'));
  const zipPath = join(dir, 'zipped-fn.zip');
  const zip = new yazl.ZipFile();
  zip.addBuffer(
    Buffer.from('def lambda_handler(event, context):\n    return {"zipped": context.function_name}\n'),
    'lambda_function.py',
  );
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(zipPath)).on('close', resolve).on('error', reject);
  });
  const r = await runCli([zipPath, fx('payload.json'), '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { zipped: 'zipped-fn' });
  assert.equal(existsSync(zipPath), true);
});
