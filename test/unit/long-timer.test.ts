import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TIMER_MS, setLongTimeout } from '../../runner/runtime/long-timer.js';

test('a timer longer than 2^31-1 ms is chained, firing once after the whole time', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let fired = 0;
  setLongTimeout(
    () => {
      fired += 1;
    },
    MAX_TIMER_MS * 2 + 5,
  );
  t.mock.timers.tick(MAX_TIMER_MS);
  t.mock.timers.tick(MAX_TIMER_MS);
  assert.equal(fired, 0, 'not before the whole time');
  t.mock.timers.tick(5);
  assert.equal(fired, 1);
});

test('a chained timer can be cancelled between its links', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let fired = 0;
  const cancel = setLongTimeout(() => {
    fired += 1;
  }, MAX_TIMER_MS + 10);
  t.mock.timers.tick(MAX_TIMER_MS);
  cancel();
  t.mock.timers.tick(100);
  assert.equal(fired, 0);
});
