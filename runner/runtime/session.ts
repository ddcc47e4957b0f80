// Serves invocations to whatever runtime is connected (spawned or external): offers one over the Runtime API, with its
// own deadline, and ends it with the first of its outcome, the runtime's loss, the deadline, a stop signal or the
// payload's failure. One session serves a single run's one invocation, or an item set's invocations one by one.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FunctionError, JobTimeoutError, TimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RuntimeApi, StoredResult } from '../runtime-api/server.js';
import { stoppedBy, stopSignal } from '../stop.js';
import { type Deadline, invocationDeadline, type JobClock, jobOverMessage } from './deadline.js';
import { followRuntimes } from './generations.js';
import { type RuntimeHost, RuntimeLossType } from './host.js';
import type { InvocationHeaders } from './invocation-headers.js';
import { setLongTimeout } from './long-timer.js';
import { endOfError, endOfOutcome, type InvocationObserver } from './observer.js';
import { toResult } from './outcome.js';

export { NO_TIMEOUT_DEADLINE_MS } from './deadline.js';

export function traceId(nowMs: number): string {
  const epoch = Math.floor(nowMs / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

/** One invocation to serve. */
export interface Offer {
  /** Opens the event (may wait for the payload to arrive). */
  openEvent(): Promise<{ stream: Readable; size?: number }>;
  /** Where the runtime's response is streamed to. */
  resultPath: string;
  /** A response of at most this many bytes is kept in memory (`Served.stored.body`), not written to `resultPath`. */
  resultInMemoryUpTo?: number;
  timeoutSeconds?: number;
  headers?: InvocationHeaders;
  /** Rejects when the payload cannot be had (its download failed): the invocation ends with that error. */
  failure?: Promise<unknown>;
}

export interface Served {
  requestId: string;
  bytes: number;
  /** As the Runtime API computed them while the result arrived (absent when it did not report them). */
  stored?: StoredResult;
}

export interface SessionDeps {
  api: RuntimeApi;
  host: RuntimeHost;
  invokedFunctionArn: string;
  log: Logger;
  signal?: AbortSignal;
  /** Epoch milliseconds (deadlines are wall-clock, as in Lambda's header). */
  now?: () => number;
  /** A timer (tests pass their own); returns how to cancel it. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** The job's budget (--job-timeout): every invocation's deadline is at most its end. */
  job?: JobClock;
  /**
   * An item set's invocations: one whose runtime went away before it took the event (it died between two items) is
   * offered again, once, to a fresh runtime. A single run has one runtime and reports its loss as it is.
   */
  retryUntaken?: boolean;
  /** Watches each invocation's phases. */
  observer?: InvocationObserver;
}

export interface Session {
  /** Serves one invocation; resolves with its result's size, or rejects with the run's error for it. */
  serve(offer: Offer): Promise<Served>;
  /** The request id of the invocation offered last (the run record's `request_id`). */
  lastRequestId(): string | undefined;
  /**
   * Epoch ms of the first request of the runtime that had the last invocation (the run record's `initialized`), or
   * of the current runtime while it has none; undefined until it made one.
   */
  initializedAt(): number | undefined;
}

/** An invocation the runtime never took (it went away first): offered again, once, to a fresh runtime. */
class NotTakenError extends Error {
  constructor(
    message: string,
    readonly errorType: string = RuntimeLossType.exit,
  ) {
    super(message);
  }
}

export function openSession(deps: SessionDeps): Session {
  const { api, host, log } = deps;
  const now = deps.now ?? Date.now;
  const runtimes = followRuntimes(api, host, log, now);
  let requestId: string | undefined;

  async function serveOnce(offer: Offer): Promise<Served> {
    await host.ready();
    runtimes.watch();
    await deps.observer?.beforeInvoke();
    const started = now();
    const deadline = invocationDeadline(started, offer.timeoutSeconds, deps.job);
    const job = deps.job;
    if (deadline.by === 'job' && job && deadline.ms <= started)
      throw new JobTimeoutError(jobOverMessage(job, false));
    const id = randomUUID();
    requestId = id;
    runtimes.invocationStarted();
    const invocation = {
      requestId: id,
      deadlineMs: deadline.ms,
      invokedFunctionArn: deps.invokedFunctionArn,
      traceId: traceId(started),
    };
    const offered = offerInvocation(api, offer, invocation, () => deps.observer?.taken(invocation));
    const ends = endsBeforeOutcome(offer, deadline, { ...deps, now });
    let reported = false;
    try {
      const o = await Promise.race([offered.outcome, ends.failed]).finally(() => runtimes.invocationEnded());
      reported = true;
      deps.observer?.ended(id, endOfOutcome(o));
      const result = toResult(o);
      const stored = offered.stored();
      return { requestId: id, bytes: result.bytes, ...(stored?.bytes === result.bytes ? { stored } : {}) };
    } catch (err) {
      if (!reported && !(err instanceof NotTakenError)) deps.observer?.ended(id, endOfError(err));
      // Still out (a deadline, a stop, a payload that never came): the runtime that holds it is done for.
      if (!offered.settled()) runtimes.abandon(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      ends.cancel();
    }
  }

  async function serve(offer: Offer): Promise<Served> {
    if (deps.signal?.aborted) throw stoppedBy(deps.signal);
    try {
      return await serveOnce(offer);
    } catch (err) {
      if (!(err instanceof NotTakenError)) throw err;
      if (!deps.retryUntaken) throw new FunctionError(err.errorType, err.message);
      log.debug(`the runtime went away before it took the event (${err.message}); offering it to a new one`);
    }
    try {
      return await serveOnce(offer);
    } catch (err) {
      if (err instanceof NotTakenError) throw new FunctionError(err.errorType, err.message);
      throw err;
    }
  }

  return { serve, lastRequestId: () => requestId, initializedAt: runtimes.initializedAt };
}

/** Offers the invocation on the Runtime API; its outcome rejects with NotTakenError when the runtime never took it. */
function offerInvocation(
  api: RuntimeApi,
  offer: Offer,
  invocation: { requestId: string; deadlineMs: number; invokedFunctionArn: string; traceId: string },
  onTaken: () => void,
) {
  let stored: StoredResult | undefined;
  let settled = false;
  let taken = false;
  const outcome = api
    .invoke({
      ...offer.headers,
      ...invocation,
      resultPath: offer.resultPath,
      ...(offer.resultInMemoryUpTo === undefined ? {} : { resultInMemoryUpTo: offer.resultInMemoryUpTo }),
      resultStored: (info) => {
        stored = info;
      },
      openEvent: () => {
        if (!taken) onTaken();
        taken = true;
        return offer.openEvent();
      },
    })
    .then((o) => {
      settled = true;
      if (o.kind === 'runtime-lost' && !taken) throw new NotTakenError(o.reason, o.errorType);
      return o;
    });
  return { outcome, stored: () => stored, settled: () => settled };
}

/**
 * What ends an invocation before its outcome does, as a promise that only rejects: the payload's failure, its deadline
 * (the runtime is killed at once), a stop signal (passed on to the runtime, which is given its grace to end).
 */
function endsBeforeOutcome(
  offer: Offer,
  deadline: Deadline,
  deps: Pick<SessionDeps, 'host' | 'signal' | 'setTimer' | 'job'> & { now: () => number },
): { failed: Promise<never>; cancel(): void } {
  const { host, signal, job } = deps;
  const setTimer = deps.setTimer ?? setLongTimeout;
  const cleanups: (() => void)[] = [];
  const failed = new Promise<never>((_, reject) => {
    offer.failure?.catch(reject);
    if (deadline.by !== 'none') {
      cleanups.push(
        setTimer(() => {
          host.kill();
          reject(
            deadline.by === 'job' && job
              ? new JobTimeoutError(jobOverMessage(job, true))
              : new TimeoutError(`the function timed out after ${offer.timeoutSeconds} s`),
          );
        }, deadline.ms - deps.now()),
      );
    }
    const onAbort = () => {
      void host.stop(stopSignal(signal)).then(() => reject(stoppedBy(signal)));
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal?.removeEventListener('abort', onAbort));
  });
  return {
    failed,
    cancel() {
      for (const c of cleanups) c();
    },
  };
}
