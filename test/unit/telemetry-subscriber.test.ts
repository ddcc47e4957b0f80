// One subscriber's buffer (runner/telemetry/subscriber.ts): a batch goes when maxItems or maxBytes is reached or when
// timeoutMs has passed since its first event, one batch at a time; one that cannot be delivered is counted as dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Subscriber } from '../../runner/telemetry/subscriber.js';
import { parseSubscription, type Subscription } from '../../runner/telemetry/subscription.js';

function subscription(buffering: object): Subscription {
  const s = parseSubscription(
    'telemetry',
    JSON.stringify({
      schemaVersion: '2022-12-13',
      types: ['function'],
      buffering,
      destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:9/' },
    }),
  );
  if ('status' in s) throw new Error(s.message);
  return s;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('maxItems events make a batch at once; the rest wait for timeoutMs', async () => {
  const batches: number[] = [];
  const s = new Subscriber('x', subscription({ maxItems: 1000, timeoutMs: 200 }), {
    send: async (events) => {
      batches.push(events.length);
    },
    dropped: () => assert.fail('nothing is dropped'),
  });
  for (let i = 0; i < 1003; i++) s.push(`{"n":${i}}`);
  await tick(20);
  assert.deepEqual(batches, [1000], 'the full batch went at once');
  await tick(300);
  assert.deepEqual(batches, [1000, 3], 'the rest after timeoutMs');
});

test('maxBytes cuts a batch; flush sends what waits and waits for it', async () => {
  const batches: number[] = [];
  const big = `"${'x'.repeat(100_000)}"`;
  const s = new Subscriber('x', subscription({ maxBytes: 262_144, timeoutMs: 30_000 }), {
    send: async (events) => {
      batches.push(events.length);
    },
    dropped: () => assert.fail('nothing is dropped'),
  });
  for (let i = 0; i < 4; i++) s.push(big);
  await s.flush();
  assert.deepEqual(batches, [2, 2], 'two 100 kB events fit under 256 KiB, three do not');
});

test('one batch at a time; a batch whose delivery fails is counted as dropped', async () => {
  let inFlight = 0;
  let most = 0;
  const dropped: number[] = [];
  const s = new Subscriber('x', subscription({ maxItems: 1000, timeoutMs: 25 }), {
    send: async (events) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await tick(30);
      inFlight -= 1;
      if (events.length === 1000) throw new Error('listener gone');
    },
    dropped: (n) => dropped.push(n),
  });
  for (let i = 0; i < 2500; i++) s.push('1');
  await s.flush();
  assert.equal(most, 1);
  assert.deepEqual(dropped, [1000, 1000]);
});
