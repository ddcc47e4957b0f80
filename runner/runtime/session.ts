// Serves invocations to whatever runtime is connected (spawned or external): offers one over the Runtime API, with its
// own deadline, and ends it with the first of its outcome, the runtime's loss, the deadline, a stop signal or the
// payload's failure. One session serves a single run's one invocation, or an item set's invocations one by one.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FunctionError, JobTimeoutError, TimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RuntimeApi, StoredResult } from '../runtime-api/server.js';
import { stoppedBy, stopSignal } from '../stop.js';
import { invocationDeadline, type JobClock, jobOverMessage } from './deadline.js';
import { type RuntimeHost, RuntimeLossType } from './host.js';
import type { InvocationHeaders } from './invocation-headers.js';
import { setLongTimeout } from './long-timer.js';
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

export interface SessionInput {
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

export function openSession(input: SessionInput): Session {
  const { api, host, log } = input;
  const now = input.now ?? Date.now;
  const setTimer = input.setTimer ?? setLongTimeout;
  let initialized: number | undefined;
  /** `initialized` of the runtime that had the last invocation (kept when that runtime is abandoned). */
  let servedBy: number | undefined;
  let requestId: string | undefined;
  // Each runtime is a generation: a loss reported for an older one (already abandoned) changes nothing.
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

  /**
   * The runtime is done for (it went away, or holds an invocation that ended without it): whatever it held ends as
   * `runtime-lost` with `reason`, everything of it is ended, and the next invocation gets a fresh one.
   */
  const abandon = (reason: string, errorType?: RuntimeLossType) => {
    // What the record of an invocation this runtime held says of it.
    servedBy ??= initialized;
    generation += 1;
    host.discard();
    api.reset(reason, errorType);
    watchConnection();
  };

  /** A runtime that goes away, mid-invocation or between two, is abandoned once its last post is in. */
  const watchRuntime = () => {
    if (watched === generation) return;
    const gen = generation;
    watched = gen;
    void host.lost().then(async (loss) => {
      await api.settled();
      if (gen !== generation) return;
      log.debug(`the runtime went away: ${loss.reason}`);
      abandon(`${loss.reason} before it returned a result`, loss.errorType);
    });
  };

  async function serveOnce(offer: Offer): Promise<Served> {
    await host.ready();
    watchRuntime();
    const started = now();
    const deadline = invocationDeadline(started, offer.timeoutSeconds, input.job);
    const job = input.job;
    if (deadline.by === 'job' && job && deadline.ms <= started)
      throw new JobTimeoutError(jobOverMessage(job, false));
    const deadlineMs = deadline.ms;
    const id = randomUUID();
    requestId = id;
    servedBy = undefined;
    let stored: StoredResult | undefined;
    let settled = false;
    let taken = false;
    const outcome = api
      .invoke({
        ...offer.headers,
        requestId: id,
        deadlineMs,
        invokedFunctionArn: input.invokedFunctionArn,
        traceId: traceId(started),
        resultPath: offer.resultPath,
        resultStored: (info) => {
          stored = info;
        },
        openEvent: () => {
          taken = true;
          return offer.openEvent();
        },
      })
      .then((o) => {
        settled = true;
        if (o.kind === 'runtime-lost' && !taken) throw new NotTakenError(o.reason, o.errorType);
        return o;
      });
    const cleanups: (() => void)[] = [];
    const failures = new Promise<never>((_, reject) => {
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
          }, deadlineMs - now()),
        );
      }
      const onAbort = () => {
        void host.stop(stopSignal(input.signal)).then(() => reject(stoppedBy(input.signal)));
      };
      if (input.signal?.aborted) onAbort();
      else input.signal?.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => input.signal?.removeEventListener('abort', onAbort));
    });
    try {
      const o = await Promise.race([outcome, failures]).finally(() => {
        servedBy ??= initialized;
      });
      const result = toResult(o);
      return { requestId: id, bytes: result.bytes, ...(stored?.bytes === result.bytes ? { stored } : {}) };
    } catch (err) {
      // Still out (a deadline, a stop, a payload that never came): the runtime that holds it is done for.
      if (!settled) abandon(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      for (const c of cleanups) c();
    }
  }

  async function serve(offer: Offer): Promise<Served> {
    if (input.signal?.aborted) throw stoppedBy(input.signal);
    try {
      return await serveOnce(offer);
    } catch (err) {
      if (!(err instanceof NotTakenError)) throw err;
      if (!input.retryUntaken) throw new FunctionError(err.errorType, err.message);
      log.debug(`the runtime went away before it took the event (${err.message}); offering it to a new one`);
    }
    try {
      return await serveOnce(offer);
    } catch (err) {
      if (err instanceof NotTakenError) throw new FunctionError(err.errorType, err.message);
      throw err;
    }
  }

  return { serve, lastRequestId: () => requestId, initializedAt: () => servedBy ?? initialized };
}
