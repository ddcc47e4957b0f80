// The Runtime API serving one runtime a sequence of invocations: held `next`s, one outcome per invocation, old
// request ids refused, init errors, connections and restarts observable, a given host:port. Real HTTP on loopback.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Invocation } from '../../runner/runtime-api/invocation.js';
import { startRuntimeApi } from '../../runner/runtime-api/server.js';
import { call } from '../support/runtime-api-client.js';

const dir = mkdtempSync(join(tmpdir(), 'rapi-seq-'));

function inv(requestId: string, event: string, extra: Partial<Invocation> = {}): Invocation {
  return {
    requestId,
    deadlineMs: 1_700_000_000_000 + requestId.length,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    traceId: `Root=1-abc-${requestId}`,
    resultPath: join(dir, `${requestId}.json`),
    openEvent: async () => ({ stream: Readable.from([Buffer.from(event)]), size: Buffer.byteLength(event) }),
    ...extra,
  };
}

/** Resolves true when `p` settles before a full round trip on another connection does. */
async function settlesBefore(p: Promise<unknown>, api: Parameters<typeof call>[0]): Promise<boolean> {
  let done = false;
  void p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await call(api, 'GET', '/nowhere');
  await new Promise((r) => setImmediate(r));
  return done;
}

test('two invocations in a row: each event with its own request id and deadline, each its own outcome', async () => {
  const api = await startRuntimeApi();
  const first = api.invoke(inv('one', '{"n":1}'));
  const n1 = await call(api, 'GET', '/invocation/next');
  assert.equal(n1.body, '{"n":1}');
  assert.equal(n1.headers['lambda-runtime-aws-request-id'], 'one');
  assert.equal(n1.headers['lambda-runtime-deadline-ms'], '1700000000003');
  assert.equal((await call(api, 'POST', '/invocation/one/response', '"r1"')).status, 202);
  assert.deepEqual(await first, {
    kind: 'response',
    bytes: 4,
    streamed: false,
  });
  assert.equal(readFileSync(join(dir, 'one.json'), 'utf8'), '"r1"');
  assert.equal(api.phase, 'ready');

  const second = api.invoke(inv('second', '{"n":2}'));
  const n2 = await call(api, 'GET', '/invocation/next');
  assert.equal(n2.headers['lambda-runtime-aws-request-id'], 'second');
  assert.equal(n2.headers['lambda-runtime-deadline-ms'], '1700000000006');
  assert.equal(n2.body, '{"n":2}');
  const body = JSON.stringify({ errorType: 'KeyError', errorMessage: "'x'" });
  assert.equal((await call(api, 'POST', '/invocation/second/error', body)).status, 202);
  assert.deepEqual(await second, {
    kind: 'error',
    errorType: 'KeyError',
    errorMessage: "'x'",
    stackTrace: undefined,
  });
  await api.close();
});

test('a next with nothing offered is held until the next invocation is offered', async () => {
  const api = await startRuntimeApi();
  const first = api.invoke(inv('a1', '1'));
  await call(api, 'GET', '/invocation/next');
  await call(api, 'POST', '/invocation/a1/response', '1');
  await first;
  const held = call(api, 'GET', '/invocation/next');
  assert.equal(await settlesBefore(held, api), false, 'next answered with nothing offered');
  const second = api.invoke(inv('a2', '2'));
  const n = await held;
  assert.equal(n.headers['lambda-runtime-aws-request-id'], 'a2');
  await call(api, 'POST', '/invocation/a2/response', '2');
  assert.equal((await second).kind, 'response');
  await api.close();
});

test('a post for an earlier request id is refused and does not touch the invocation in flight', async () => {
  const api = await startRuntimeApi();
  const first = api.invoke(inv('old', '1'));
  await call(api, 'GET', '/invocation/next');
  await call(api, 'POST', '/invocation/old/response', '"first"');
  await first;
  const second = api.invoke(inv('new', '2'));
  await call(api, 'GET', '/invocation/next');
  const late = await call(api, 'POST', '/invocation/old/response', '"late"');
  assert.equal(late.status, 403);
  assert.match(JSON.parse(late.body).errorMessage, /invocation old is over/);
  const lateError = await call(api, 'POST', '/invocation/old/error', '{}');
  assert.equal(lateError.status, 403);
  assert.equal(readFileSync(join(dir, 'old.json'), 'utf8'), '"first"');
  assert.equal((await call(api, 'POST', '/invocation/new/response', '"n"')).status, 202);
  assert.equal((await second).kind, 'response');
  await api.close();
});

test('invoke refuses a second invocation while one is out, and a request id used before', async () => {
  const api = await startRuntimeApi();
  const first = api.invoke(inv('x1', '1'));
  assert.throws(() => api.invoke(inv('x2', '2')), /x1 has not ended yet/);
  await call(api, 'GET', '/invocation/next');
  await call(api, 'POST', '/invocation/x1/response', '1');
  await first;
  assert.throws(() => api.invoke(inv('x1', '1')), /request id x1 was used before/);
  await api.close();
  assert.throws(() => api.invoke(inv('x3', '3')), /closed/);
});

test('two concurrent result posts: the first claims the invocation before its body arrives, the second gets 403', async () => {
  const api = await startRuntimeApi();
  const outcome = api.invoke(inv('race', '1'));
  await call(api, 'GET', '/invocation/next');
  let release!: () => void;
  const slowEnd = new Promise<void>((r) => {
    release = r;
  });
  const slow = call(
    api,
    'POST',
    '/invocation/race/response',
    [Buffer.from('"slow')],
    {},
    { endWhen: slowEnd },
  );
  // The result file is opened right after the claim: once it exists, the slow post holds the invocation.
  for (let i = 0; i < 400 && !existsSync(join(dir, 'race.json')); i++)
    await new Promise((r) => setTimeout(r, 5));
  const fast = await call(api, 'POST', '/invocation/race/response', '"fast"');
  assert.equal(fast.status, 403);
  assert.match(JSON.parse(fast.body).errorMessage, /already being received/);
  assert.equal((await call(api, 'POST', '/invocation/race/error', '{}')).status, 403);
  release();
  await new Promise((r) => setImmediate(r));
  // The slow body gets its end: chunked bodies end with the terminating chunk only.
  const r = await slow;
  assert.equal(r.status, 202);
  const o = await outcome;
  assert.equal(o.kind, 'response');
  assert.equal(readFileSync(join(dir, 'race.json'), 'utf8'), '"slow');
  await api.close();
});

test('an init error is observable, fails the offered invocation and every later one until a reset', async () => {
  const api = await startRuntimeApi();
  const offered = api.invoke(inv('i1', '1'));
  const body = JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: 'no module' });
  assert.equal((await call(api, 'POST', '/init/error', body)).status, 202);
  assert.equal((await api.initError()).errorType, 'Runtime.ImportModuleError');
  assert.equal((await offered).kind, 'init-error');
  assert.equal(api.phase, 'init-failed');
  assert.equal((await api.invoke(inv('i2', '2'))).kind, 'init-error');
  assert.equal((await call(api, 'GET', '/invocation/next')).status, 403);
  api.reset('a fresh runtime');
  assert.equal(api.phase, 'init');
  const again = api.invoke(inv('i3', '3'));
  assert.equal((await call(api, 'GET', '/invocation/next')).headers['lambda-runtime-aws-request-id'], 'i3');
  await call(api, 'POST', '/invocation/i3/response', '3');
  assert.equal((await again).kind, 'response');
  await api.close();
});

test("connected() resolves at the runtime's first request, and again after a reset", async () => {
  const api = await startRuntimeApi();
  assert.equal(await settlesBefore(api.connected(), api), true, 'the probe request itself connects');
  api.reset('restart');
  const next = api.connected();
  let resolved = false;
  void next.then(() => {
    resolved = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false);
  await call(api, 'GET', '/nowhere');
  await next;
  await api.close();
});

test('a runtime restart mid-invocation: the invocation ends as runtime-lost, state back to init, its id refused', async () => {
  const api = await startRuntimeApi();
  const lost = api.invoke(inv('r1', '1'));
  await call(api, 'GET', '/invocation/next');
  api.reset('runtime exited with code 137');
  assert.deepEqual(await lost, { kind: 'runtime-lost', reason: 'runtime exited with code 137' });
  assert.equal(api.phase, 'init');
  // The fresh runtime may report an init error again.
  const body = JSON.stringify({ errorType: 'E', errorMessage: 'm' });
  assert.equal((await call(api, 'POST', '/init/error', body)).status, 202);
  api.reset('again');
  const next = api.invoke(inv('r2', '2'));
  await call(api, 'GET', '/invocation/next');
  assert.equal((await call(api, 'POST', '/invocation/r1/response', '1')).status, 403);
  await call(api, 'POST', '/invocation/r2/response', '2');
  assert.equal((await next).kind, 'response');
  await api.close();
});

test('a held next whose connection closes leaves the queue: the invocation goes to the next next', async () => {
  const api = await startRuntimeApi();
  const [host, port] = api.address.split(':');
  const { request } = await import('node:http');
  const gone = request({ host, port, path: '/2018-06-01/runtime/invocation/next' });
  gone.on('error', () => {});
  gone.end();
  await call(api, 'GET', '/nowhere');
  gone.destroy();
  await new Promise((r) => setTimeout(r, 20));
  const outcome = api.invoke(inv('q1', '"e"'));
  const n = await call(api, 'GET', '/invocation/next');
  assert.equal(n.body, '"e"');
  await call(api, 'POST', '/invocation/q1/response', '1');
  assert.equal((await outcome).kind, 'response');
  await api.close();
});

test('tenant id, client context and Cognito identity travel as Lambda headers on next', async () => {
  const api = await startRuntimeApi();
  const o = api.invoke(
    inv('h1', '{}', {
      tenantId: 'tenant-42',
      clientContext: '{"custom":{"k":"v"}}',
      cognitoIdentity: '{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
    }),
  );
  const n = await call(api, 'GET', '/invocation/next');
  assert.equal(n.headers['lambda-runtime-aws-tenant-id'], 'tenant-42');
  assert.equal(n.headers['lambda-runtime-client-context'], '{"custom":{"k":"v"}}');
  assert.equal(
    n.headers['lambda-runtime-cognito-identity'],
    '{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
  );
  const plain = await startRuntimeApi();
  const p = plain.invoke(inv('h2', '{}'));
  const m = await call(plain, 'GET', '/invocation/next');
  assert.equal(m.headers['lambda-runtime-aws-tenant-id'], undefined);
  assert.equal(m.headers['lambda-runtime-client-context'], undefined);
  await call(api, 'POST', '/invocation/h1/response', '1');
  await call(plain, 'POST', '/invocation/h2/response', '1');
  await Promise.all([o, p]);
  await Promise.all([api.close(), plain.close()]);
});

test('a streamed response (chunked, streaming mode) is stored as it came; error trailers fail the invocation', async () => {
  const api = await startRuntimeApi();
  const ok = api.invoke(inv('s1', '{}'));
  await call(api, 'GET', '/invocation/next');
  const mode = { 'Lambda-Runtime-Function-Response-Mode': 'streaming', 'Content-Type': 'text/plain' };
  const r = await call(
    api,
    'POST',
    '/invocation/s1/response',
    [Buffer.from('part 1, '), Buffer.from('part 2')],
    mode,
  );
  assert.equal(r.status, 202);
  assert.deepEqual(await ok, { kind: 'response', bytes: 14, streamed: true, contentType: 'text/plain' });
  assert.equal(readFileSync(join(dir, 's1.json'), 'utf8'), 'part 1, part 2');

  const failed = api.invoke(inv('s2', '{}'));
  await call(api, 'GET', '/invocation/next');
  const errorBody = Buffer.from(
    JSON.stringify({ errorType: 'TypeError', errorMessage: 'mid-stream' }),
  ).toString('base64');
  await call(api, 'POST', '/invocation/s2/response', [Buffer.from('partial')], mode, {
    trailers: {
      'Lambda-Runtime-Function-Error-Type': 'TypeError',
      'Lambda-Runtime-Function-Error-Body': errorBody,
    },
  });
  const o = await failed;
  assert.equal(o.kind, 'error');
  assert.equal(o.kind === 'error' && o.errorMessage, 'mid-stream');
  assert.equal(o.kind === 'error' && o.errorType, 'TypeError');
  await api.close();
});

test('the server listens on a given host and port (for a runtime in another container)', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const api = await startRuntimeApi({ host: '127.0.0.1', port });
  assert.equal(api.address, `127.0.0.1:${port}`);
  const o = api.invoke(inv('p1', '{}'));
  await call(api, 'GET', '/invocation/next');
  await call(api, 'POST', '/invocation/p1/response', '1');
  assert.equal((await o).kind, 'response');
  await assert.rejects(startRuntimeApi({ host: '127.0.0.1', port }), /EADDRINUSE/);
  await api.close();
});

test('an event that cannot be opened ends its invocation (event-not-read); the next one is served', async () => {
  const api = await startRuntimeApi();
  const broken = api.invoke(
    inv('e1', '{}', {
      openEvent: async () => {
        throw new Error('payload gone');
      },
    }),
  );
  const r = await call(api, 'GET', '/invocation/next');
  assert.equal(r.status, 400);
  assert.deepEqual(await broken, { kind: 'event-not-read', message: 'payload gone' });
  const next = api.invoke(inv('e2', '"ok"'));
  assert.equal((await call(api, 'GET', '/invocation/next')).body, '"ok"');
  await call(api, 'POST', '/invocation/e2/response', '1');
  assert.equal((await next).kind, 'response');
  await api.close();
});
