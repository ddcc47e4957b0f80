// The Telemetry and Logs APIs on the runner's address: subscribing (during init only, through one of the two APIs),
// and delivery to the subscriber's listener over the loopback, by HTTP POST of a JSON array or by NDJSON over TCP.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { test } from 'node:test';
import { startRuntimeApi } from '../../runner/runtime-api/server.js';
import { RETRY_DELAYS_MS } from '../../runner/telemetry/delivery.js';
import { callPath } from '../support/runtime-api-client.js';

async function registered() {
  const api = await startRuntimeApi();
  api.extensions.expect(['ext']);
  const r = await callPath(api, 'POST', '/2020-01-01/extension/register', '{"events":["INVOKE"]}', {
    'Lambda-Extension-Name': 'ext',
  });
  return { api, id: String(r.headers['lambda-extension-identifier']) };
}

const body = (port: number, protocol = 'HTTP', schemaVersion = '2022-12-13') =>
  JSON.stringify({
    schemaVersion,
    types: ['platform', 'function'],
    buffering: { timeoutMs: 25 },
    destination:
      protocol === 'HTTP' ? { protocol, URI: `http://sandbox.localdomain:${port}/in` } : { protocol, port },
  });

test('a subscription is answered 200 "OK"; then the other API is refused (400), and after init both are closed (403)', async () => {
  const { api, id } = await registered();
  const put = (path: string, text: string, ext = id) =>
    callPath(api, 'PUT', path, text, { 'Lambda-Extension-Identifier': ext });
  const ok = await put('/2022-07-01/telemetry', body(9));
  assert.deepEqual([ok.status, ok.body], [200, '"OK"']);
  const other = await put('/2020-08-15/logs', body(9, 'HTTP', '2021-03-18'));
  assert.equal(other.status, 400);
  assert.equal(JSON.parse(other.body).errorType, 'Logs.ValidationError');
  const unknown = await put('/2022-07-01/telemetry', body(9), '00000000-0000-0000-0000-000000000000');
  assert.equal(JSON.parse(unknown.body).errorType, 'Extension.UnknownExtensionIdentifier');
  api.telemetry.initEnded();
  assert.deepEqual(JSON.parse((await put('/2022-07-01/telemetry', body(9))).body), {
    errorType: 'Telemetry.SubscriptionClosed',
    errorMessage: 'Telemetry API subscription is closed',
  });
  assert.deepEqual(JSON.parse((await put('/2020-08-15/logs', body(9))).body), {
    errorType: 'Logs.SubscriptionClosed',
    errorMessage: 'Logs API subscription is closed already',
  });
  await api.close();
});

test('events go to a sandbox.localdomain URI as a POSTed JSON array, on the loopback, path kept', async () => {
  const got: { path: string; body: unknown }[] = [];
  const listener = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      got.push({ path: `${req.method} ${req.url}`, body: JSON.parse(text) });
      res.end();
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const { api, id } = await registered();
  const port = (listener.address() as AddressInfo).port;
  await callPath(api, 'PUT', '/2022-07-01/telemetry', body(port), { 'Lambda-Extension-Identifier': id });
  api.telemetry.log({ type: 'function', at: Date.parse('2026-01-02T03:04:05.678Z'), line: 'hello' });
  await api.telemetry.flush(2000);
  assert.equal(got[0]?.path, 'POST /in');
  const events = got.flatMap((g) => g.body as { type: string; record: unknown; time: string }[]);
  assert.ok(events.some((e) => e.type === 'platform.telemetrySubscription'));
  assert.deepEqual(
    events.find((e) => e.type === 'function'),
    { time: '2026-01-02T03:04:05.678Z', type: 'function', record: 'hello' },
  );
  await api.close();
  listener.close();
});

test('a batch the listener refuses through every retry is dropped, and the next batch says so with platform.logsDropped', async (t) => {
  let refusals = RETRY_DELAYS_MS.length + 1;
  let refused: unknown[] = [];
  const got: { type: string; record: unknown }[] = [];
  const listener = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      if (refusals > 0) {
        refusals -= 1;
        refused = JSON.parse(text);
        res.statusCode = 500;
      } else got.push(...JSON.parse(text));
      res.end();
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const { api, id } = await registered();
  t.after(async () => {
    await api.close();
    listener.close();
  });
  const port = (listener.address() as AddressInfo).port;
  await callPath(api, 'PUT', '/2022-07-01/telemetry', body(port), { 'Lambda-Extension-Identifier': id });
  api.telemetry.log({ type: 'function', at: Date.now(), line: 'lost' });
  await api.telemetry.flush(5000);
  api.telemetry.log({ type: 'function', at: Date.now(), line: 'kept' });
  await api.telemetry.flush(5000);
  assert.equal(refusals, 0, 'the first batch was tried once and retried after each delay');
  assert.ok(!got.some((e) => e.record === 'lost' || e.type === 'platform.telemetrySubscription'));
  const dropped = got.find((e) => e.type === 'platform.logsDropped')?.record as
    | { droppedRecords: number; droppedBytes: number; reason: string }
    | undefined;
  assert.equal(dropped?.droppedRecords, refused.length, 'every event of the refused batch');
  assert.ok(refused.length >= 2, 'the subscription event and the line at least');
  assert.ok(Number(dropped?.droppedBytes) > 0);
  assert.equal(typeof dropped?.reason, 'string');
  assert.ok(got.some((e) => e.type === 'function' && e.record === 'kept'));
});

test('a TCP subscriber gets newline-delimited JSON', async () => {
  let text = '';
  const listener = createTcpServer((socket) => {
    socket.on('data', (c) => {
      text += c;
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const { api, id } = await registered();
  const port = (listener.address() as AddressInfo).port;
  const r = await callPath(api, 'PUT', '/2022-07-01/telemetry', body(port, 'TCP'), {
    'Lambda-Extension-Identifier': id,
  });
  assert.equal(r.status, 200);
  api.telemetry.log({ type: 'function', at: 0, line: 'over tcp' });
  await api.telemetry.flush(2000);
  await new Promise((res) => setTimeout(res, 50));
  const lines = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; record: unknown });
  assert.ok(
    lines.some((l) => l.type === 'function' && l.record === 'over tcp'),
    text,
  );
  await api.close();
  listener.close();
});
