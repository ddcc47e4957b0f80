// Where lambda-batch writes and what it knows of its surroundings, handed to each command (tests give their own).
import type { Env } from '../lib/env.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress goes there unasked */
  errIsTty: boolean;
  env: Env;
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Progress on stderr: rewritten in place on a terminal, one line at most every `everyMs` otherwise. */
export interface Progress {
  say(text: string): void;
  done(): void;
}

export function progress(io: Io, enabled: boolean, everyMs = 1000): Progress {
  if (!enabled) return { say() {}, done() {} };
  let last = 0;
  let shown = false;
  return {
    say(text) {
      if (io.errIsTty) {
        io.err(`\r\x1b[K${text}`);
        shown = true;
        return;
      }
      const t = io.now();
      if (t - last < everyMs) return;
      last = t;
      io.err(`${text}\n`);
    },
    done() {
      if (shown) io.err('\r\x1b[K');
      shown = false;
    },
  };
}

/** A whole number with thousands marked (10,000). */
export const count = (n: number) => n.toLocaleString('en-US');

/** An ISO time from ms since epoch, or `-`. */
export const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());
