// How a batch reaches a subscriber: an HTTP POST of a JSON array to its URI (the Telemetry API's recommended
// protocol), or newline-delimited JSON over TCP to its port ("Specifying a destination protocol"); both on the loopback,
// where the execution environment's listeners are. A failure is retried with backoff (Lambda "retries the attempt to
// send telemetry (with backoff) if there is no listener, or if the POST request results in an error").
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Destination } from './subscription.js';

/** Backoff between the attempts at one batch; after the last, the batch is dropped. */
export const RETRY_DELAYS_MS = [50, 100, 200, 400, 800] as const;
/** No single attempt may take longer (a listener that accepts and never answers). */
const ATTEMPT_TIMEOUT_MS = 5_000;

function post(url: URL, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        timeout: ATTEMPT_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 500) < 400
            ? resolve()
            : reject(new Error(`the listener answered ${res.statusCode}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('the listener did not answer')));
    req.on('error', reject);
    req.end(body);
  });
}

function ndjson(port: number, lines: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: ATTEMPT_TIMEOUT_MS });
    socket.on('timeout', () => socket.destroy(new Error('the listener did not take the batch')));
    socket.on('error', reject);
    socket.on('connect', () => socket.end(lines, () => resolve()));
  });
}

/** Sends one batch of serialized events, retrying as Lambda does; rejects once every attempt failed. */
export async function deliver(
  destination: Destination,
  events: readonly string[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  const send =
    destination.protocol === 'HTTP'
      ? () => post(destination.url, `[${events.join(',')}]`)
      : () => ndjson(destination.port, `${events.join('\n')}\n`);
  let last: unknown;
  for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt++) {
    try {
      return await send();
    } catch (err) {
      last = err;
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay !== undefined) await sleep(delay);
    }
  }
  throw last;
}
