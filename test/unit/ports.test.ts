// test/support/ports.ts: a leased port lies outside the kernel's ephemeral range (no port-0 listener can take it),
// is free for its server on 127.0.0.1, and no other lease, in this process or another, gets it until it is released.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ephemeralRange, LEASE_HOST, leasablePorts, leasePort, withLeasedPort } from '../support/ports.js';

/** Whether `host:port` can be listened on now, asked of another process. */
function freeForAnotherProcess(host: string, port: number): boolean {
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `require('node:net').createServer().on('error', (e) => { console.log(e.code); process.exit(0); })
        .listen(${port}, '${host}', function () { console.log('free'); this.close(); });`,
    ],
    { encoding: 'utf8' },
  );
  const said = r.stdout.trim();
  assert.ok(said === 'free' || said === 'EADDRINUSE', `unexpected: ${said} ${r.stderr}`);
  return said === 'free';
}

test('the leasable ports are 10000 to 65535 without the ephemeral range', () => {
  assert.deepEqual(leasablePorts([32768, 60999]), [
    [10000, 32767],
    [61000, 65535],
  ]);
  assert.deepEqual(leasablePorts([1024, 60999]), [[61000, 65535]]);
  assert.deepEqual(leasablePorts([1024, 65535]), []);
  assert.deepEqual(leasablePorts([40000, 65535]), [[10000, 39999]]);
});

test('the ephemeral range is read from /proc, with Linux’s default where there is none', () => {
  const [low, high] = ephemeralRange();
  assert.ok(low >= 1 && low <= high && high <= 65535, `${low}-${high}`);
  assert.deepEqual(ephemeralRange('/nonexistent/ip_local_port_range'), [32768, 60999]);
});

test('a leased port is outside the ephemeral range, free on 127.0.0.1, and no other lease gets it until released', async () => {
  const [low, high] = ephemeralRange();
  const lease = await leasePort();
  try {
    assert.ok(lease.port >= 10000 && (lease.port < low || lease.port > high), `port ${lease.port}`);
    assert.equal(freeForAnotherProcess(LEASE_HOST, lease.port), false, 'another process sees it leased');
    assert.equal(freeForAnotherProcess('127.0.0.1', lease.port), true, 'its server can bind it');
    // And a server of this process can, while the lease holds.
    const server = createServer().listen(lease.port, '127.0.0.1');
    await once(server, 'listening');
    await new Promise((r) => server.close(r));
  } finally {
    await lease.release();
  }
  assert.equal(freeForAnotherProcess(LEASE_HOST, lease.port), true, 'released');
});

test('leases held at once are all different', async () => {
  const leases = await Promise.all(Array.from({ length: 20 }, () => leasePort()));
  try {
    assert.equal(new Set(leases.map((l) => l.port)).size, 20);
  } finally {
    await Promise.all(leases.map((l) => l.release()));
  }
});

test('withLeasedPort releases the port when its use throws', async () => {
  let port = 0;
  await assert.rejects(
    withLeasedPort(async (p) => {
      port = p;
      throw new Error('the use failed');
    }),
    /the use failed/,
  );
  assert.equal(freeForAnotherProcess(LEASE_HOST, port), true);
});

test('a range that leaves no port is said plainly', async () => {
  await assert.rejects(leasePort([1024, 65535]), /the ephemeral range 1024-65535 leaves no port to lease/);
});
