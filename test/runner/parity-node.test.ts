// The runner's own Node.js client behaves as Lambda's (aws-lambda-ric), checked against that very client where
// it runs here (same handler → same exit code, last line and result): errors of any size end the run, thrown
// non-Errors, bad handler names, callback handlers on nodejs24.x, response streaming.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fx, parseLastLine, runCli } from './helpers.js';
import { sameAsOfficial } from './official-node.js';

const fn = fx('parity-fn');
const node24 = (handler: string, payload = 'data:,{}', extra: string[] = []) => [
  '--runtime',
  'nodejs24.x',
  '--handler',
  handler,
  ...extra,
  fn,
  payload,
  '-',
];

test('node: a 2 MiB error message ends the run without --timeout: exit 1, `RangeError: …` with the message cut', {
  timeout: 10_000,
}, async () => {
  const r = await runCli(node24('js.bigError', `data:,{"chars":${2 << 20}}`));
  assert.equal(r.code, 1, r.stderr.slice(-500));
  const { type, message } = parseLastLine(r.last);
  assert.equal(type, 'RangeError');
  assert.match(message, /^x{2000}… \(cut; 2097152 characters in all\)$/);
});

test('node: an error body over 1 MiB (the old limit) ends as it does under the official client', {
  timeout: 20_000,
}, async (t) => {
  // 10^6 characters make a 2 MB body (message and stack). The official client 4.0.2 itself stalls in its
  // native HTTP client on error bodies from about 2.2 MB on, so the reference stays below that.
  const args = node24('js.bigError', 'data:,{"chars":1000000}');
  const r = await runCli(args);
  assert.equal(r.code, 1, r.stderr.slice(-500));
  assert.match(r.last, /^RangeError: x{2000}… \(cut; 1000000 characters in all\)$/);
  await sameAsOfficial(t, args, r);
});

test("node: an error body over Lambda's 6 MiB limit still ends the run, with its type kept", {
  timeout: 20_000,
}, async () => {
  const r = await runCli(node24('js.bigError', `data:,{"chars":${7 << 20}}`));
  assert.equal(r.code, 1, r.stderr.slice(-500));
  assert.equal(parseLastLine(r.last).type, 'RangeError');
});

test("node: `throw 'a plain string'` has the type `string`", async (t) => {
  const args = node24('js.plainString');
  const r = await runCli(args);
  assert.equal(r.code, 1);
  assert.equal(r.last, 'string: a plain string');
  await sameAsOfficial(t, args, r);
});

test('node: a handler without a dot is Runtime.MalformedHandlerName; a relative path is refused too', async (t) => {
  const args = node24('js');
  const r = await runCli(args);
  assert.equal(r.code, 1);
  assert.equal(r.last, 'Runtime.MalformedHandlerName: Bad handler');
  await sameAsOfficial(t, args, r);
  const rel = node24('../parity-fn/js.echo');
  const r2 = await runCli(rel);
  assert.equal(r2.code, 1);
  assert.match(
    r2.last,
    /^Runtime\.MalformedHandlerName: '\.\.\/parity-fn\/js\.echo' is not a valid handler name/,
  );
  await sameAsOfficial(t, rel, r2);
});

test("node: callback-style handlers are refused on nodejs24.x with Lambda's message, and served before it", async (t) => {
  const args = node24('js.callback');
  const r = await runCli(args);
  assert.equal(r.code, 1);
  assert.match(
    r.last,
    /^Runtime\.CallbackHandlerDeprecated: ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node\.js 24\./,
  );
  await sameAsOfficial(t, args, r);
  const old = await runCli(['--runtime', 'nodejs20.x', '--handler', 'js.callback', fn, 'data:,{}', '-']);
  assert.equal(old.code, 0, old.stderr);
  assert.equal(old.stdout, '{"callback":true}');
});

test('node: awslambda.streamifyResponse streams the chunks to the output', async (t) => {
  const args = node24('js.stream', 'data:,{"name":"n"}');
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'chunk 1, chunk 2 of n');
  await sameAsOfficial(t, args, r);
});

test('node: a streaming handler that throws mid-stream fails the run with its error (error trailers)', async (t) => {
  const args = node24('js.streamFails');
  const r = await runCli(args);
  assert.equal(r.code, 1);
  assert.equal(r.last, 'TypeError: failed mid-stream');
  assert.equal(r.stdout, '');
  await sameAsOfficial(t, args, r);
});

test('node: HttpResponseStream.from writes the JSON prelude and 8 NUL bytes before the body', async (t) => {
  const args = node24('js.httpStream');
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `{"statusCode":201,"headers":{"a":"b"}}${'\u0000'.repeat(8)}body`);
  await sameAsOfficial(t, args, r);
});
