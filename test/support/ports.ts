// Ports for servers a test names before they bind (moto_server's -p, the runner's --runtime-api, a task's stand-in
// for 127.0.0.1:9001). A port found free and closed again is anyone's until the server binds it: every process that
// listens on port 0 (the runner's own Runtime API, the front, a test's probe) or connects out gets a port from the
// kernel's ephemeral range, and under load one of them takes it first. So a port is leased here instead:
// - it lies outside the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), where the kernel never hands a
//   port out by itself;
// - the lease is a listening socket on 127.0.0.2 with the same port, held by this process until released (or until
//   it dies, when the kernel lets it go): another lease of that port, in this process or another, finds it in use.
//   The server binds 127.0.0.1, which a socket on 127.0.0.2 does not block (on Linux all of 127/8 is loopback).
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/** Where leases are held: a loopback address no server of the tests binds. */
export const LEASE_HOST = '127.0.0.2';
/** Leased ports start here: below it are the fixed ports people run things on (5000, 8080, 9001, 9229…). */
const FLOOR = 10_000;
const TRIES = 200;

export interface PortLease {
  port: number;
  /** Lets the port go (its server has ended or no longer needs it free); safe to call twice. */
  release(): Promise<void>;
}

/** The kernel's ephemeral range ([low, high]); Linux's default where /proc does not say. */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] {
  try {
    const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low as number, high as number];
  } catch {
    // no /proc: not Linux
  }
  return [32768, 60999];
}

/** The ports a lease is taken from: FLOOR to 65535 without the ephemeral range, as [first, last] spans. */
export function leasablePorts([low, high]: [number, number]): [number, number][] {
  const spans: [number, number][] = [];
  if (low - 1 >= FLOOR) spans.push([FLOOR, low - 1]);
  if (high + 1 <= 65535) spans.push([Math.max(high + 1, FLOOR), 65535]);
  return spans.filter(([a, b]) => a <= b);
}

/** Listens on host:port; undefined when the port is held there (or where the wildcard address holds it). */
async function tryListen(host: string, port: number): Promise<Server | undefined> {
  const server = createServer();
  server.listen({ host, port });
  const [outcome] = await Promise.race([once(server, 'listening'), once(server, 'error')]);
  if (outcome === undefined) return server;
  const code = (outcome as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') return undefined;
  throw outcome;
}

const close = (server: Server) => new Promise<void>((r) => server.close(() => r()));

function randomPort(spans: [number, number][]): number {
  const sizes = spans.map(([a, b]) => b - a + 1);
  let n = Math.floor(Math.random() * sizes.reduce((s, x) => s + x, 0));
  for (const [i, [a]] of spans.entries()) {
    if (n < (sizes[i] as number)) return a + n;
    n -= sizes[i] as number;
  }
  throw new Error('unreachable: n is below the sum of the sizes');
}

/**
 * A port free on 127.0.0.1 now, leased to this process: no other lease gets it, and the kernel does not hand it out
 * for port 0. Release it once its server is gone.
 * @example
 *   const lease = await leasePort();
 *   try { await runServerOn(`127.0.0.1:${lease.port}`); } finally { await lease.release(); }
 */
export async function leasePort(range = ephemeralRange()): Promise<PortLease> {
  const spans = leasablePorts(range);
  if (spans.length === 0) throw new Error(`the ephemeral range ${range.join('-')} leaves no port to lease`);
  for (let i = 0; i < TRIES; i++) {
    const port = randomPort(spans);
    const lease = await tryListen(LEASE_HOST, port);
    if (!lease) continue;
    // Something outside the tests may serve 127.0.0.1 on it already.
    const probe = await tryListen('127.0.0.1', port);
    if (!probe) {
      await close(lease);
      continue;
    }
    await close(probe);
    lease.unref();
    let released: Promise<void> | undefined;
    return { port, release: () => (released ??= close(lease)) };
  }
  throw new Error(`no port of ${spans.map((s) => s.join('-')).join(', ')} could be leased in ${TRIES} tries`);
}

/** Runs `use` with a leased port, released after it (however it ends). */
export async function withLeasedPort<T>(use: (port: number) => Promise<T>): Promise<T> {
  const lease = await leasePort();
  try {
    return await use(lease.port);
  } finally {
    await lease.release();
  }
}
