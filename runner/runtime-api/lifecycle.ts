// The runtime's lifecycle as the Runtime API sees it: init, then invocations handed out one at a time, each
// answered once. The endpoint handlers and the server's `invoke` drive it; it does no I/O itself.
import type { ErrorReport, Invocation, Outcome } from './invocation.js';

/**
 * `init`: a fresh runtime that has not asked for an event yet (init/error is allowed);
 * `ready`: it has asked, or will ask again, and no invocation is out;
 * `invoking`: an event is handed out and its result or error is awaited;
 * `init-failed`: the runtime reported an init error (until `reset`);
 * `closed`: the server is gone.
 */
export type Phase = 'init' | 'ready' | 'invoking' | 'init-failed' | 'closed';

/** An offered invocation and how to end it; `claimed` while a result or error post for it is being read. */
export interface Slot {
  readonly invocation: Invocation;
  claimed: boolean;
}

/** Why a post is refused: the status and Runtime API error type to answer with. */
export interface Refusal {
  status: 400 | 403;
  errorType: 'InvalidRequestID' | 'InvalidStateTransition';
  message: string;
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export class Lifecycle {
  phase: Phase = 'init';
  private offered: Slot | undefined;
  private current: Slot | undefined;
  private readonly settlers = new Map<Slot, (o: Outcome) => void>();
  /** Held `next` requests, first come first served. */
  private readonly waiters: ((slot: Slot | undefined) => void)[] = [];
  /** Request ids handed out before: a late post for one is told that invocation is over. */
  private readonly past = new Set<string>();
  private initFailure: ErrorReport | undefined;
  private connection = deferred<void>();
  private initFailed = deferred<ErrorReport>();

  /** Resolves at the first request of the current runtime (since start or the last reset). */
  connected(): Promise<void> {
    return this.connection.promise;
  }

  /** Resolves if the current runtime reports an init error; never rejects. */
  initError(): Promise<ErrorReport> {
    return this.initFailed.promise;
  }

  /** Any request from the runtime. */
  touch(): void {
    this.connection.resolve();
  }

  /** Offers one invocation; throws when one is already out (one at a time) or its id was used before. */
  offer(invocation: Invocation): Promise<Outcome> {
    if (this.phase === 'closed') throw new Error('the Runtime API is closed');
    if (this.offered || this.current) {
      const busy = (this.offered ?? this.current)?.invocation.requestId;
      throw new Error(`invocation ${busy} has not ended yet: the Runtime API serves one at a time`);
    }
    if (this.past.has(invocation.requestId)) {
      throw new Error(`request id ${invocation.requestId} was used before`);
    }
    if (this.phase === 'init-failed' && this.initFailure) {
      return Promise.resolve({ kind: 'init-error', ...this.initFailure });
    }
    const slot: Slot = { invocation, claimed: false };
    const outcome = new Promise<Outcome>((resolve) => this.settlers.set(slot, resolve));
    this.offered = slot;
    this.dispatch();
    return outcome;
  }

  /**
   * A `next` request: resolves with the invocation handed to it (claimed synchronously, so two `next`s can
   * never get the same one), or undefined when `cancel` ran (the request closed) or the runtime was reset.
   */
  next(): { slot: Promise<Slot | undefined>; cancel(): void } | Refusal {
    if (this.phase === 'init-failed' || this.phase === 'closed') {
      return {
        status: 403,
        errorType: 'InvalidStateTransition',
        message: `no invocation will follow (state: ${this.phase})`,
      };
    }
    if (this.phase === 'init') this.phase = 'ready';
    let waiter!: (slot: Slot | undefined) => void;
    const slot = new Promise<Slot | undefined>((resolve) => {
      waiter = resolve;
    });
    this.waiters.push(waiter);
    this.dispatch();
    return {
      slot,
      cancel: () => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        waiter(undefined);
      },
    };
  }

  private dispatch(): void {
    const slot = this.offered;
    const waiter = this.waiters.shift();
    if (!slot || !waiter) {
      if (waiter) this.waiters.unshift(waiter);
      return;
    }
    this.offered = undefined;
    this.current = slot;
    this.phase = 'invoking';
    this.past.add(slot.invocation.requestId);
    waiter(slot);
  }

  /** Claims the invocation for a result or error post, before its body is read; a Refusal when it may not. */
  claim(requestId: string | undefined): Slot | Refusal {
    const cur = this.current;
    if (cur && cur.invocation.requestId === requestId) {
      if (cur.claimed) {
        return {
          status: 403,
          errorType: 'InvalidStateTransition',
          message: `a result or error for ${requestId} is already being received`,
        };
      }
      cur.claimed = true;
      return cur;
    }
    if (requestId !== undefined && this.past.has(requestId)) {
      return { status: 403, errorType: 'InvalidStateTransition', message: `invocation ${requestId} is over` };
    }
    if (!cur) {
      return {
        status: 403,
        errorType: 'InvalidStateTransition',
        message: `no invocation in flight (state: ${this.phase})`,
      };
    }
    return { status: 400, errorType: 'InvalidRequestID', message: `unknown request id ${requestId ?? ''}` };
  }

  /** The `next` that got `slot` closed before the event went out: the invocation waits for the next `next`. */
  giveBack(slot: Slot): void {
    if (slot !== this.current || slot.claimed) return;
    this.current = undefined;
    this.past.delete(slot.invocation.requestId);
    this.offered = slot;
    this.phase = 'ready';
    this.dispatch();
  }

  /** A claimed post ended without a verdict (its connection was cut): the invocation is open again. */
  release(slot: Slot): void {
    if (slot === this.current) slot.claimed = false;
  }

  /** Ends the invocation in `slot` with `outcome` (ignored when it already ended, e.g. by a reset). */
  finish(slot: Slot, outcome: Outcome): void {
    if (slot !== this.current) return;
    this.current = undefined;
    this.phase = 'ready';
    this.settle(slot, outcome);
  }

  /** The runtime reported an init error: an offered invocation fails with it, and so does every later one. */
  failInit(report: ErrorReport): void {
    this.phase = 'init-failed';
    this.initFailure = report;
    this.initFailed.resolve(report);
    const slot = this.offered;
    this.offered = undefined;
    if (slot) this.settle(slot, { kind: 'init-error', ...report });
  }

  /**
   * A fresh runtime process replaces the last one: what was offered or out ends as `runtime-lost`, held
   * `next`s are dropped, and the state is `init` again (init/error allowed, `connected` re-armed).
   */
  reset(reason: string, errorType?: string): void {
    this.endAll(reason, errorType);
    if (this.phase === 'closed') return;
    this.phase = 'init';
    this.initFailure = undefined;
    this.connection = deferred();
    this.initFailed = deferred();
  }

  close(): void {
    this.endAll('the Runtime API closed');
    this.phase = 'closed';
  }

  private endAll(reason: string, errorType?: string): void {
    for (const slot of [this.current, this.offered]) {
      if (slot) this.settle(slot, { kind: 'runtime-lost', reason, ...(errorType ? { errorType } : {}) });
    }
    this.current = undefined;
    this.offered = undefined;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  private settle(slot: Slot, outcome: Outcome): void {
    const settle = this.settlers.get(slot);
    this.settlers.delete(slot);
    settle?.(outcome);
  }
}

export function isRefusal(x: Slot | Refusal | { slot: unknown }): x is Refusal {
  return 'status' in x;
}
