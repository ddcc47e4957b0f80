// The Telemetry and Logs APIs on the runner's address: subscribing (during init only, through one of the two APIs),
// and delivery to the subscriber's listener over the loopback, by HTTP POST of a JSON array or by NDJSON over TCP.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { test } from 'node:test';
import { startRuntimeApi } from '../../runner/runtime-api/server.js';
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
