// Timers longer than Node's limit: setTimeout takes at most 2^31-1 ms (~24.8 days) and fires at once past it.

/** Node's longest single timer. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fn` after `ms` (any finite length), chaining timers as needed; returns a function that cancels it. */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number) => {
    if (left > MAX_TIMER_MS) timer = setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS);
    else timer = setTimeout(fn, Math.max(left, 0));
  };
  arm(ms);
  return () => clearTimeout(timer);
}
