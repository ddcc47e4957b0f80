// The one bounded pool (lib/pool.ts) that the item writes, the item-record reads, the SQS records and the runner's
// layer files and downloads go through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapAbortable, mapBounded, settleBounded } from '../../lib/pool.js';

/** A call per item that waits until the test lets it go, counting how many are in flight at most. */
function gated() {
  const gates: (() => void)[] = [];
  const state = { inFlight: 0, most: 0, finished: 0, started: [] as number[] };
  const call = async (i: number) => {
    state.started.push(i);
    state.most = Math.max(state.most, ++state.inFlight);
    await new Promise<void>((go) => gates.push(go));
    state.inFlight--;
    state.finished++;
    return i * 10;
  };
  /** Lets the waiting calls go, one a turn, until `total` have finished. */
  const release = async (total: number) => {
    while (state.finished < total) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { call, state, release };
}

test('settleBounded keeps at most limit calls in flight and settles every item in input order', async () => {
  const g = gated();
  const items = Array.from({ length: 10 }, (_, i) => i);
  const done = settleBounded(items, 3, (i) => g.call(i));
  await g.release(items.length);
  const results = await done;
  assert.equal(g.state.most, 3);
  assert.deepEqual(g.state.started, items);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason)),
    items.map((i) => i * 10),
  );
});

test('settleBounded: a failure, thrown or rejected, settles alone and stops nothing', async () => {
  const results = await settleBounded([0, 1, 2, 3], 2, async (i) => {
    if (i === 1) throw new Error('one');
    if (i === 2) return Promise.reject(new Error('two'));
    return i;
  });
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [0, 'one', 'two', 3],
  );
  const sync = await settleBounded([0], 1, ((): Promise<number> => {
    throw new Error('at once');
  }) as (i: number) => Promise<number>);
  assert.equal(sync[0]?.status, 'rejected');
});

test('mapBounded: after the first failure no item starts, those in flight finish, then the first failure is thrown', async () => {
  const started: number[] = [];
  let finished = 0;
  const gates = new Map<number, () => void>();
  const run = mapBounded([0, 1, 2, 3, 4, 5], 2, async (i) => {
    started.push(i);
    if (i === 1) throw new Error('item 1 failed');
    await new Promise<void>((go) => gates.set(i, go));
    finished++;
    return i;
  });
  // Item 0 is in flight when item 1 fails; item 2 would start on item 1's worker, but no item starts after a failure.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1]);
  let settled = false;
  run
    .catch(() => {})
    .finally(() => {
      settled = true;
    });
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'it waits for the call in flight');
  gates.get(0)?.();
  await assert.rejects(run, /item 1 failed/);
  assert.equal(finished, 1);
  assert.deepEqual(started, [0, 1]);
});

test('mapBounded returns the results in input order; nothing to do is no call', async () => {
  assert.deepEqual(await mapBounded([3, 1, 2], 8, async (n) => n * 2), [6, 2, 4]);
  let calls = 0;
  assert.deepEqual(
    await mapBounded([], 4, async () => {
      calls++;
    }),
    [],
  );
  assert.equal(calls, 0);
});

/** A call that runs until its signal aborts, then fails with the abort; `settled` counts those that ended. */
function untilAborted(state: { settled: number }) {
  return (signal: AbortSignal) =>
    new Promise<never>((_, fail) => {
      // Settles a turn later, as a real download does once it has closed its file.
      const end = () =>
        setImmediate(() => {
          state.settled++;
          fail(new Error('aborted'));
        });
      if (signal.aborted) end();
      else signal.addEventListener('abort', end);
    });
}

test('mapAbortable: the first failure aborts the calls still running and is thrown once every call has settled', async () => {
  const state = { settled: 0 };
  const wait = untilAborted(state);
  const run = mapAbortable([0, 1, 2], async (i, signal) => {
    if (i === 1) throw new Error('layer 1 failed');
    return wait(signal);
  });
  await assert.rejects(run, /layer 1 failed/);
  assert.equal(state.settled, 2, 'both other calls ended before the failure was thrown');
});

test('mapAbortable: an outer abort, before or during, aborts every call; results come in input order', async () => {
  assert.deepEqual(await mapAbortable([2, 1], async (n) => n * 10), [20, 10]);
  for (const early of [true, false]) {
    const outer = new AbortController();
    if (early) outer.abort('SIGTERM');
    const state = { settled: 0 };
    const run = mapAbortable([0, 1], (_, signal) => untilAborted(state)(signal), outer.signal);
    if (!early) setImmediate(() => outer.abort('SIGTERM'));
    await assert.rejects(run, /aborted/);
    assert.equal(state.settled, 2);
  }
});
