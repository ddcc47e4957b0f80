// SUBMIT_RATE: at most N SubmitJob calls in any one-second window per container, shared by every request and record.

export interface Clock {
  /** ms, monotonic enough for spacing calls */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface RateLimiter {
  /** Resolves when one more call fits in the window; calls are granted in the order they asked. */
  take(): Promise<void>;
}

const WINDOW_MS = 1000;

/**
 * A sliding-window log: a call is granted when fewer than `perSecond` were granted in the last second, so a
 * burst of up to `perSecond` goes at once and no one-second window ever holds more (a token bucket would
 * allow twice that across a window boundary, which is what Batch's 50-per-second limit counts).
 */
export function createRateLimiter(perSecond: number, clock: Clock = realClock): RateLimiter {
  const granted: number[] = [];
  let queue: Promise<void> = Promise.resolve();
  const grant = async () => {
    for (;;) {
      const t = clock.now();
      while (granted.length > 0 && granted[0]! <= t - WINDOW_MS) granted.shift();
      if (granted.length < perSecond) {
        granted.push(t);
        return;
      }
      await clock.sleep(granted[0]! + WINDOW_MS - t);
    }
  };
  return {
    take() {
      const mine = queue.then(grant);
      queue = mine.catch(() => undefined);
      return mine;
    },
  };
}
