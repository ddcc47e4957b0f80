// The runtimes one session serves, one after another (a fresh one after a crash or a timeout): when each made its
// first request (the run record's `initialized`), and what ends it. Each runtime is a generation: a loss reported for
// an older one, already abandoned, changes nothing.
import type { Logger } from '../log.js';
import type { RuntimeApi } from '../runtime-api/server.js';
import type { RuntimeHost, RuntimeLossType } from './host.js';

/** The runtimes a session serves, one after another: when each made its first request, and its end. */
export interface Runtimes {
  /** Watches the current runtime for its going away (once for each runtime). */
  watch(): void;
  /**
   * The runtime is done for (it went away, or holds an invocation that ended without it): whatever it held ends as
   * `runtime-lost` with `reason`, everything of it is ended, and the next invocation gets a fresh one.
   */
  abandon(reason: string, errorType?: RuntimeLossType): void;
  /** An invocation is offered: which runtime serves it is not known yet. */
  invocationStarted(): void;
  /** It ended: its record names the runtime that had it (the one abandoned for it, if it was). */
  invocationEnded(): void;
  /** Session.initializedAt */
  initializedAt(): number | undefined;
}

export function followRuntimes(api: RuntimeApi, host: RuntimeHost, log: Logger, now: () => number): Runtimes {
  let initialized: number | undefined;
  /** `initialized` of the runtime that had the last invocation (kept when that runtime is abandoned). */
  let servedBy: number | undefined;
  let generation = 0;
  let watched = -1;

  // `connected` is armed anew for each runtime (after a reset): the time is the current runtime's.
  const watchConnection = () => {
    initialized = undefined;
    const gen = generation;
    void api.connected().then(() => {
      if (gen === generation) initialized ??= now();
    });
  };
  watchConnection();

  const abandon = (reason: string, errorType?: RuntimeLossType) => {
    // What the record of an invocation this runtime held says of it.
    servedBy ??= initialized;
    generation += 1;
    host.discard();
    api.reset(reason, errorType);
    watchConnection();
  };

  return {
    // A runtime that goes away, mid-invocation or between two, is abandoned once its last post is in.
    watch() {
      if (watched === generation) return;
      const gen = generation;
      watched = gen;
      void host.lost().then(async (loss) => {
        await api.settled();
        if (gen !== generation) return;
        log.debug(`the runtime went away: ${loss.reason}`);
        abandon(`${loss.reason} before it returned a result`, loss.errorType);
      });
    },
    abandon,
    invocationStarted() {
      servedBy = undefined;
    },
    invocationEnded() {
      servedBy ??= initialized;
    },
    initializedAt: () => servedBy ?? initialized,
  };
}
