// Subscriptions to the Telemetry API and the Logs API, as Lambda checks them: the buffering limits of "Configuring
// memory usage and buffering" (a 400 that names the field and the range), the types, the schema versions, and a
// destination inside the execution environment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSubscription } from '../../runner/telemetry/subscription.js';

const good = {
  schemaVersion: '2022-12-13',
  types: ['platform', 'function'],
  destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/telemetry' },
};

const refused = (body: unknown, api: 'telemetry' | 'logs' = 'telemetry') => {
  const r = parseSubscription(api, JSON.stringify(body));
  assert.ok('status' in r, `accepted: ${JSON.stringify(body)}`);
  return `${r.status} ${r.errorType}: ${r.message}`;
};

test('the buffering defaults are Lambda’s, and a sandbox URI is delivered over the loopback, path kept', () => {
  const s = parseSubscription('telemetry', JSON.stringify(good));
  assert.ok(!('status' in s));
  assert.deepEqual(s.buffering, { maxItems: 10_000, maxBytes: 262_144, timeoutMs: 1_000 });
  assert.deepEqual([...s.types], ['platform', 'function']);
  assert.ok(s.destination.protocol === 'HTTP');
  assert.equal(s.destination.url.href, 'http://127.0.0.1:4243/telemetry');
});

test('buffering outside Lambda’s limits is a 400 naming the field and its range', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ maxItems: 999 }, 'buffering.maxItems must be a whole number from 1,000 to 10,000, got 999'],
    [{ maxItems: 10_001 }, 'buffering.maxItems must be a whole number from 1,000 to 10,000, got 10001'],
    [
      { maxBytes: 262_143 },
      'buffering.maxBytes must be a whole number from 262,144 to 1,048,576, got 262143',
    ],
    [
      { maxBytes: 1_048_577 },
      'buffering.maxBytes must be a whole number from 262,144 to 1,048,576, got 1048577',
    ],
    [{ timeoutMs: 24 }, 'buffering.timeoutMs must be a whole number from 25 to 30,000, got 24'],
    [{ timeoutMs: 30_001 }, 'buffering.timeoutMs must be a whole number from 25 to 30,000, got 30001'],
    [{ timeoutMs: 100.5 }, 'buffering.timeoutMs must be a whole number from 25 to 30,000, got 100.5'],
  ];
  for (const [buffering, message] of cases) {
    assert.equal(refused({ ...good, buffering }), `400 ValidationError: ${message}`);
  }
  assert.equal(
    refused({ ...good, schemaVersion: '2021-03-18', buffering: { maxItems: 1 } }, 'logs'),
    '400 Logs.ValidationError: buffering.maxItems must be a whole number from 1,000 to 10,000, got 1',
  );
  const edges = { maxItems: 1_000, maxBytes: 1_048_576, timeoutMs: 25 };
  const ok = parseSubscription('telemetry', JSON.stringify({ ...good, buffering: edges }));
  assert.ok(!('status' in ok) && ok.buffering.timeoutMs === 25);
});

test('types, schema versions and destinations Lambda refuses are 400s that say why', () => {
  assert.equal(refused({ ...good, types: [] }), '400 ValidationError: types should not be empty');
  assert.equal(
    refused({ ...good, types: ['platform', 'metrics'] }),
    '400 ValidationError: types[1] must be one of platform, function, extension, got "metrics"',
  );
  assert.equal(
    refused({ ...good, schemaVersion: '2020-08-15' }),
    '400 ValidationError: schemaVersion must be one of 2022-07-01, 2022-12-13, 2025-01-29, got "2020-08-15"',
  );
  assert.equal(
    refused({ ...good, destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain/x' } }),
    '400 ValidationError: URI port is not provided',
  );
  assert.match(
    refused({ ...good, destination: { protocol: 'HTTP', URI: 'http://example.com:80/' } }),
    /^400 ValidationError: destination.URI must name the execution environment/,
  );
  assert.match(
    refused({ ...good, destination: { protocol: 'HTTP', URI: 'https://sandbox.localdomain:443/' } }),
    /Lambda sends no HTTPS/,
  );
  assert.equal(
    refused({ ...good, destination: { protocol: 'UDP', port: 9 } }),
    '400 ValidationError: destination.protocol must be "HTTP" or "TCP", got "UDP"',
  );
  const tcp = parseSubscription(
    'telemetry',
    JSON.stringify({ ...good, destination: { protocol: 'TCP', port: 4244 } }),
  );
  assert.deepEqual(!('status' in tcp) && tcp.destination, { protocol: 'TCP', port: 4244 });
  // The Logs API's schemaVersion is optional (2020-08-15); the Telemetry API's is required.
  const logs = parseSubscription('logs', JSON.stringify({ ...good, schemaVersion: undefined }));
  assert.equal(!('status' in logs) && logs.schemaVersion, '2020-08-15');
  assert.match(refused({ ...good, schemaVersion: undefined }), /schemaVersion must be one of/);
});
