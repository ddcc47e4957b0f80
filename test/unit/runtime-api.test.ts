import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import type { ApiLimits, Invocation, StoredResult } from '../../runner/runtime-api/invocation.js';
import { API_PREFIX, match } from '../../runner/runtime-api/routes.js';
import { startRuntimeApi } from '../../runner/runtime-api/server.js';
import { call } from '../support/runtime-api-client.js';

const REQUEST_ID = 'req-1';

interface StartOptions {
  event?: () => Promise<{ stream: Readable; size?: number }>;
  limits?: Partial<ApiLimits>;
  invocation?: Partial<Invocation>;
}

function invocation(dir: string, opts: StartOptions = {}, requestId = REQUEST_ID): Invocation {
  return {
    requestId,
    deadlineMs: 1_700_000_000_000,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    traceId: 'Root=1-abc-def;Parent=1;Sampled=0',
    resultPath: join(dir, `${requestId}.json`),
    openEvent: opts.event ?? (async () => ({ stream: Readable.from([Buffer.from('{"a":1}')]), size: 7 })),
    ...opts.invocation,
  };
}

/** A server with one invocation offered (as invokeOnce does before it starts the runtime). */
async function startApi(opts: StartOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rapi-test-'));
  const api = await startRuntimeApi({ limits: opts.limits });
  const inv = invocation(dir, opts);
  const outcome = api.invoke(inv);
  return { api, dir, outcome, resultPath: inv.resultPath };
}

test('next hands out the event with the request id, deadline, function ARN and trace id headers', async () => {
  const { api } = await startApi();
  const r = await call(api, 'GET', '/invocation/next');
  assert.equal(r.status, 200);
  assert.equal(r.body, '{"a":1}');
  assert.equal(r.headers['lambda-runtime-aws-request-id'], REQUEST_ID);
  assert.equal(r.headers['lambda-runtime-deadline-ms'], '1700000000000');
  assert.equal(
    r.headers['lambda-runtime-invoked-function-arn'],
    'arn:aws:lambda:us-east-1:000000000000:function:f',
  );
  assert.equal(r.headers['lambda-runtime-trace-id'], 'Root=1-abc-def;Parent=1;Sampled=0');
  await api.close();
});

test('next waits for the payload to arrive before answering', async () => {
  let arrive!: () => void;
  const arrived = new Promise<void>((r) => {
    arrive = r;
  });
  let answered = false;
  const { api } = await startApi({
    event: async () => {
      await arrived;
      return { stream: Readable.from([Buffer.from('[1,2]')]) };
    },
  });
  const next = call(api, 'GET', '/invocation/next').then((r) => {
    answered = true;
    return r;
  });
  // A full round trip on another connection completes while next is still held.
  assert.equal((await call(api, 'GET', '/nowhere')).status, 404);
  assert.equal(answered, false);
  arrive();
  assert.equal((await next).body, '[1,2]');
  await api.close();
});

test('onNext: a `next` held since before the hook was set is looked at when its event goes out, over its open connection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rapi-test-'));
  const api = await startRuntimeApi();
  // The runtime asks first (an external one may, while the runner still prepares the function)…
  const next = call(api, 'GET', '/invocation/next');
  assert.equal((await call(api, 'GET', '/nowhere')).status, 404, 'the next is held by now');
  let release!: () => void;
  const looked: { clientPort: number; serverPort: number }[] = [];
  let lookedAt!: () => void;
  const look = new Promise<void>((r) => {
    lookedAt = r;
  });
  let answered = false;
  void next.then(() => {
    answered = true;
  });
  // …then the runner learns to look, then offers the invocation: the event waits for the look.
  api.onNext(async (conn) => {
    looked.push(conn);
    lookedAt();
    await new Promise<void>((r) => {
      release = r;
    });
  });
  const outcome = api.invoke(invocation(dir));
  await Promise.race([look, next]);
  assert.equal(looked.length, 1, 'looked at before its event went out');
  assert.equal(looked[0]?.serverPort, Number(api.address.split(':')[1]));
  assert.ok((looked[0]?.clientPort ?? 0) > 0, 'the runtime’s own port');
  assert.equal((await call(api, 'GET', '/nowhere')).status, 404);
  assert.equal(answered, false, 'the event waits for the look');
  release();
  assert.equal((await next).body, '{"a":1}');
  await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, '1');
  assert.equal((await outcome).kind, 'response');
  await api.close();
});

test('a response for the request id is streamed to the result file and answered 202', async () => {
  const { api, resultPath, outcome } = await startApi();
  await call(api, 'GET', '/invocation/next');
  const r = await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, [
    Buffer.from('{"ok":'),
    Buffer.from('true}'),
  ]);
  assert.equal(r.status, 202);
  assert.deepEqual(await outcome, { kind: 'response', bytes: 11, streamed: false });
  assert.equal(readFileSync(resultPath, 'utf8'), '{"ok":true}');
  await api.close();
});

test('a response that declares at most resultInMemoryUpTo bytes is handed over in memory, hashed; no file', async () => {
  let stored: StoredResult | undefined;
  const { api, resultPath, outcome } = await startApi({
    invocation: { resultInMemoryUpTo: 11, resultStored: (s) => (stored = s) },
  });
  await call(api, 'GET', '/invocation/next');
  const r = await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, '{"ok":true}', {
    'Content-Length': '11',
  });
  assert.equal(r.status, 202);
  assert.deepEqual(await outcome, { kind: 'response', bytes: 11, streamed: false });
  assert.equal(String(stored?.body), '{"ok":true}');
  assert.equal(stored?.crc32, crc32('{"ok":true}'));
  assert.equal(stored?.sha256, createHash('sha256').update('{"ok":true}').digest('hex'));
  assert.equal(existsSync(resultPath), false);
  await api.close();
});

test('a response over resultInMemoryUpTo, or of no declared length, goes to the result file', async () => {
  for (const [upTo, body, headers] of [
    [10, '{"ok":true}', { 'Content-Length': '11' }],
    [1024, [Buffer.from('{"ok":'), Buffer.from('true}')], {}],
  ] as const) {
    let stored: StoredResult | undefined;
    const { api, resultPath, outcome } = await startApi({
      invocation: { resultInMemoryUpTo: upTo, resultStored: (s) => (stored = s) },
    });
    await call(api, 'GET', '/invocation/next');
    const r = await call(
      api,
      'POST',
      `/invocation/${REQUEST_ID}/response`,
      body as string | Buffer[],
      headers,
    );
    assert.equal(r.status, 202);
    assert.deepEqual(await outcome, { kind: 'response', bytes: 11, streamed: false });
    assert.equal(stored?.body, undefined);
    assert.equal(stored?.bytes, 11);
    assert.equal(readFileSync(resultPath, 'utf8'), '{"ok":true}');
    await api.close();
  }
});

test('a response with a wrong request id is refused with 400', async () => {
  const { api } = await startApi();
  await call(api, 'GET', '/invocation/next');
  const r = await call(api, 'POST', '/invocation/other-id/response', '{}');
  assert.equal(r.status, 400);
  assert.equal(JSON.parse(r.body).errorType, 'InvalidRequestID');
  await api.close();
});

test('a response before next, or a second one, is refused with 403', async () => {
  const { api } = await startApi();
  const early = await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, '{}');
  assert.equal(early.status, 403);
  assert.equal(JSON.parse(early.body).errorType, 'InvalidStateTransition');
  await call(api, 'GET', '/invocation/next');
  assert.equal((await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, '1')).status, 202);
  assert.equal((await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, '2')).status, 403);
  assert.equal((await call(api, 'POST', `/invocation/${REQUEST_ID}/error`, '{}')).status, 403);
  await api.close();
});

test('a response larger than the limit is refused with 413, leaves no file, and ends the invocation', async () => {
  const { api, resultPath, outcome } = await startApi({ limits: { maxResponseBytes: 10 } });
  await call(api, 'GET', '/invocation/next');
  const streamed = await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, [
    Buffer.from('x'.repeat(6)),
    Buffer.from('x'.repeat(6)),
  ]);
  assert.equal(streamed.status, 413);
  assert.equal(JSON.parse(streamed.body).errorType, 'RequestEntityTooLarge');
  assert.equal(existsSync(resultPath), false);
  // Lambda fails the invocation: a runtime told 413 must not wait for an event that never comes.
  assert.deepEqual(await outcome, {
    kind: 'error',
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: 'Response payload size exceeded maximum allowed payload size (10 bytes).',
  });
  assert.equal((await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, '"ok"')).status, 403);
  await api.close();
});

test('a response whose declared length is over the limit is refused at once and ends the invocation', async () => {
  const { api, outcome } = await startApi({ limits: { maxResponseBytes: 10 } });
  await call(api, 'GET', '/invocation/next');
  assert.equal((await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, 'x'.repeat(11))).status, 413);
  assert.equal((await outcome).kind, 'error');
  await api.close();
});

test('an error post is answered 202 and its type comes from the body errorType', async () => {
  const { api, outcome } = await startApi();
  await call(api, 'GET', '/invocation/next');
  const body = JSON.stringify({ errorType: 'ValueError', errorMessage: 'bad value', stackTrace: ['x'] });
  const r = await call(api, 'POST', `/invocation/${REQUEST_ID}/error`, body, {
    'Lambda-Runtime-Function-Error-Type': 'Unhandled',
  });
  assert.equal(r.status, 202);
  assert.deepEqual(await outcome, {
    kind: 'error',
    errorType: 'ValueError',
    errorMessage: 'bad value',
    stackTrace: ['x'],
  });
  await api.close();
});

test('an error post without errorType falls back to the error-type header', async () => {
  const { api, outcome } = await startApi();
  await call(api, 'GET', '/invocation/next');
  await call(api, 'POST', `/invocation/${REQUEST_ID}/error`, 'not json', {
    'Lambda-Runtime-Function-Error-Type': 'Custom.Failure',
  });
  const o = await outcome;
  assert.equal(o.kind, 'error');
  assert.equal(o.kind === 'error' && o.errorType, 'Custom.Failure');
  assert.equal(o.kind === 'error' && o.errorMessage, 'not json');
  await api.close();
});

test('an error body over the limit is answered 413, yet the invocation fails with its type and a cut message', async () => {
  const { api, outcome } = await startApi({ limits: { maxErrorBytes: 1000 } });
  await call(api, 'GET', '/invocation/next');
  // The official Python client writes errorMessage before errorType: the type is found at the end.
  const body = JSON.stringify({
    errorMessage: `start ${'x'.repeat(200_000)}`,
    errorType: 'ValueError',
    stackTrace: [],
  });
  const r = await call(api, 'POST', `/invocation/${REQUEST_ID}/error`, [Buffer.from(body)]);
  assert.equal(r.status, 413);
  const o = await outcome;
  assert.equal(o.kind, 'error');
  assert.equal(o.kind === 'error' && o.errorType, 'ValueError');
  const message = o.kind === 'error' ? o.errorMessage : '';
  assert.match(message, /^start x+… \(cut: error body of \d+ bytes exceeds the 1000-byte limit\)$/);
  assert.ok(message.length < 5000, `message of ${message.length} characters`);
  await api.close();
});

test("error bodies up to Lambda's payload limit are accepted by default", async () => {
  const { api, outcome } = await startApi();
  await call(api, 'GET', '/invocation/next');
  const body = JSON.stringify({ errorType: 'RangeError', errorMessage: 'x'.repeat(5 << 20) });
  assert.equal((await call(api, 'POST', `/invocation/${REQUEST_ID}/error`, body)).status, 202);
  const o = await outcome;
  assert.equal(o.kind === 'error' && o.errorMessage.length, 5 << 20);
  await api.close();
});

test('an init error is accepted before next and settles the outcome', async () => {
  const { api, outcome } = await startApi();
  const body = JSON.stringify({
    errorType: 'Runtime.ImportModuleError',
    errorMessage: "No module named 'x'",
  });
  assert.equal((await call(api, 'POST', '/init/error', body)).status, 202);
  assert.deepEqual(await outcome, {
    kind: 'init-error',
    errorType: 'Runtime.ImportModuleError',
    errorMessage: "No module named 'x'",
    stackTrace: undefined,
  });
  await api.close();
});

test('an init error after the event was handed out is refused with 403', async () => {
  const { api } = await startApi();
  await call(api, 'GET', '/invocation/next');
  assert.equal((await call(api, 'POST', '/init/error', '{}')).status, 403);
  await api.close();
});

test('a second next is held (no second event) until the server closes', async () => {
  const { api } = await startApi();
  await call(api, 'GET', '/invocation/next');
  let answered = false;
  const second = call(api, 'GET', '/invocation/next').then(
    () => {
      answered = true;
    },
    () => 'closed',
  );
  assert.equal((await call(api, 'POST', `/invocation/${REQUEST_ID}/response`, '{}')).status, 202);
  assert.equal((await call(api, 'GET', '/nowhere')).status, 404);
  assert.equal(answered, false);
  await api.close();
  assert.equal(await second, 'closed');
  assert.equal(answered, false);
});

test('unknown paths get 404 and a wrong method 405', async () => {
  const { api } = await startApi();
  assert.equal((await call(api, 'GET', '/invocation/x/nothing')).status, 404);
  assert.equal((await call(api, 'POST', '/invocation/next', '{}')).status, 405);
  assert.equal((await call(api, 'GET', '/init/error')).status, 405);
  await api.close();
});

test('runtime API: a malformed %-escape in a request id is a 404, not a crash', () => {
  assert.deepEqual(match('POST', `${API_PREFIX}/invocation/%E0%A4%A/response`), { status: 404 });
  const ok = match('POST', `${API_PREFIX}/invocation/abc%2Ddef/response`);
  assert.ok('route' in ok);
  assert.equal(ok.params.requestId, 'abc-def');
});
