import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fx, parseLastLine, runCli } from './helpers.js';

const fn = fx('node-fn');
const payload = fx('payload.json');
const h = (handler: string) => ['--handler', handler];

test('node: a CommonJS async handler (index.handler, the default) sees a real context', async () => {
  const r = await runCli(['--timeout', '30', fn, payload, '-']);
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.equal(c.handler, 'index.handler');
  assert.match(c.awsRequestId, /^[0-9a-f-]{36}$/);
  assert.equal(c.functionName, 'node-fn');
  assert.equal(c.functionVersion, '$LATEST');
  assert.match(c.invokedFunctionArn, /:function:node-fn$/);
  assert.match(c.memoryLimitInMB, /^\d+$/);
  assert.equal(c.logGroupName, '/aws/lambda/node-fn');
  assert.ok(c.remaining > 20_000 && c.remaining <= 30_000, `remaining ${c.remaining}`);
  assert.deepEqual(c.event, { a: 1 });
});

test('node: ESM async, promise-returning and callback-style (.cjs in a folder) handlers', async () => {
  const esm = await runCli([...h('esm.echo'), fn, payload, '-']);
  assert.deepEqual(JSON.parse(esm.stdout), { a: 1 });
  const promise = await runCli([...h('esm.promise'), fn, payload, '-']);
  assert.deepEqual(JSON.parse(promise.stdout), { late: { a: 1 } });
  const cb = await runCli([...h('lib/callback.handler'), fn, 'data:,{"n":5}']);
  assert.equal(cb.code, 0, cb.stderr);
  assert.deepEqual(JSON.parse(cb.stdout), { callback: true, n: 5 });
});

test('node: a thrown error exits 1 with its name and message as the last line', async () => {
  const r = await runCli([...h('esm.fail'), fn, payload, '-']);
  assert.equal(r.code, 1);
  assert.deepEqual(parseLastLine(r.last), { type: 'WidgetError', message: 'widget 7 is broken' });
  assert.equal(r.stdout, '');
});

test('node: a missing module is Runtime.ImportModuleError and a missing export Runtime.HandlerNotFound', async () => {
  const mod = await runCli(['--runtime', 'nodejs20.x', ...h('nothere.handler'), fn, payload, '-']);
  assert.equal(mod.code, 1);
  assert.equal(mod.last, "Runtime.ImportModuleError: Error: Cannot find module 'nothere'");
  const fnMissing = await runCli([...h('esm.nope'), fn, payload, '-']);
  assert.equal(fnMissing.code, 1);
  assert.equal(fnMissing.last, 'Runtime.HandlerNotFound: esm.nope is undefined or not exported');
});

test('node: undefined becomes null; unicode survives; console.log goes to stderr', async () => {
  const nothing = await runCli([...h('esm.nothing'), fn, payload, '-']);
  assert.equal(nothing.stdout, 'null');
  const text = 'ß ✓ 東京 🚀';
  const uni = await runCli([...h('esm.unicode'), fn, '-'], { input: JSON.stringify({ text }) });
  assert.deepEqual(JSON.parse(uni.stdout), { text, extra: '✓ ünïcødé 🚀' });
  const prints = await runCli([...h('esm.prints'), fn, payload, '-']);
  assert.deepEqual(JSON.parse(prints.stdout), { printed: true });
  assert.match(prints.stderr, /a log line on stdout/);
});

test('node: the example function runs and reports where its result went', async () => {
  const r = await runCli(['examples/node-task', 'examples/node-task/payload.json', '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).sum, 15);
  assert.equal(r.last, 'run-lambda: result (' + Buffer.byteLength(r.stdout) + ' bytes) written to stdout');
});

/** An opt dir holding one ES module package the way a layer puts it there: nodejs/node_modules/layerpkg. */
function esmLayer(): string {
  const opt = mkdtempSync(join(tmpdir(), 'esm-layer-'));
  const pkg = join(opt, 'nodejs', 'node_modules', 'layerpkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"name":"layerpkg","type":"module","exports":"./index.js"}');
  writeFileSync(join(pkg, 'index.js'), 'export const greet = (x) => "hello " + x + " from a layer";\n');
  return opt;
}

test('node: an ES module handler imports a package from a layer (/opt/nodejs/node_modules), as Lambda allows', async (t) => {
  const opt = esmLayer();
  t.after(() => rmSync(opt, { recursive: true, force: true }));
  const r = await runCli(['--opt-dir', opt, fx('esm-layer-fn'), 'data:,{"name":"esm"}']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { greeting: 'hello esm from a layer' });
  const without = await runCli(['--opt-dir', fx('empty-fn'), fx('esm-layer-fn'), 'data:,{"name":"esm"}']);
  assert.equal(without.code, 1);
  assert.match(without.last, /^Runtime\.ImportModuleError: .*layerpkg/);
});
