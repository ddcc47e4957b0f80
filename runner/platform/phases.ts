// The platform around each invocation, as Lambda's execution environment lifecycle runs it: the init phase (extensions
// registered and asked for their first event, the runtime's first request), then for each invocation the INVOKE to the
// extensions and the START line when the runtime takes the event, the END line when it answers, and the REPORT line
// once the extensions asked for their next event (its duration counts their time after the runtime's: "Duration limit",
// Extensions API document). Telemetry subscribers get the same as platform events. The session calls it at each step.
import { invokeEvent, ShutdownReason } from '../extensions/events.js';
import type { ExtensionHost } from '../extensions/host.js';
import type { InvocationObserver, InvokeEnd } from '../runtime/observer.js';
import type { TelemetrySink } from '../telemetry/facts.js';
import { peakMemoryMb } from './memory.js';
import { endLine, type LogLineFormat, reportLine, startLine } from './report-lines.js';

export interface PhasesDeps {
  version: string;
  memorySizeMb: number;
  format: LogLineFormat;
  /** The run's extensions, once started (none: no extensions). */
  extensions?: () => ExtensionHost | undefined;
  telemetry: TelemetrySink;
  /** Where START, END and REPORT go (the runner's stderr, as the function's log). */
  write(text: string): void;
  /** The runtime process the runner started (its tree's memory is reported), if any. */
  runtimePid(): number | undefined;
  /** Epoch ms (event times). */
  now?: () => number;
  /** A monotonic clock in ms (durations). */
  clock?: () => number;
}

export interface Phases extends InvocationObserver {
  /** The init phase begins (at `clock` and `at`, when it began before): the extensions or the runtime start. */
  initStarted(when?: { clock: number; at: number }): void;
  /** Resolves when the last invocation's phase has ended (its REPORT written). */
  drain(): Promise<void>;
  /** The SHUTDOWN's reason: how the last invocation ended. */
  shutdownReason(): ShutdownReason;
}

interface Current {
  requestId: string;
  traceId: string;
  startClock: number;
  initDurationMs: number | undefined;
}

/** How an invocation's end becomes the SHUTDOWN's reason. */
function shutdownReasonOf(status: InvokeEnd['status']): ShutdownReason {
  if (status === 'timeout') return ShutdownReason.timeout;
  return status === 'error' ? ShutdownReason.failure : ShutdownReason.spindown;
}

/** The REPORT line and event, once the extensions asked for their next event (their time counts). */
async function report(deps: PhasesDeps, cur: Current, end: InvokeEnd, maxMemoryMb: number): Promise<void> {
  const now = deps.now ?? Date.now;
  const clock = deps.clock ?? (() => performance.now());
  await deps.extensions?.()?.settle();
  const durationMs = clock() - cur.startClock;
  const metrics = {
    durationMs,
    billedDurationMs: Math.ceil(durationMs),
    memorySizeMB: deps.memorySizeMb,
    maxMemoryUsedMB: maxMemoryMb,
    ...(cur.initDurationMs === undefined ? {} : { initDurationMs: cur.initDurationMs }),
  };
  const r = { status: end.status, ...(end.errorType ? { errorType: end.errorType } : {}), metrics };
  const at = now();
  deps.write(reportLine(deps.format, cur.requestId, r, at));
  deps.telemetry.platform({ type: 'report', at, requestId: cur.requestId, traceId: cur.traceId, ...r });
}

/** The START line and event when the runtime takes the event. */
function announceStart(deps: PhasesDeps, inv: { requestId: string; traceId: string }, at: number): void {
  deps.write(startLine(deps.format, inv.requestId, deps.version, at));
  deps.telemetry.platform({
    type: 'start',
    at,
    requestId: inv.requestId,
    version: deps.version,
    traceId: inv.traceId,
  });
}

export function platformPhases(deps: PhasesDeps): Phases {
  const now = deps.now ?? Date.now;
  const clock = deps.clock ?? (() => performance.now());
  const { telemetry } = deps;
  const extensions = () => deps.extensions?.();
  let initClock: number | undefined;
  let runtimePid: number | undefined;
  let started = false;
  let current: Current | undefined;
  let lastPhase: Promise<void> = Promise.resolve();
  let reason: ShutdownReason = ShutdownReason.spindown;
  let maxMemoryMb = 0;

  const initStarted = (when?: { clock: number; at: number }) => {
    if (initClock !== undefined) return;
    initClock = when?.clock ?? clock();
    telemetry.platform({ type: 'initStart', at: when?.at ?? now() });
  };

  /** The runtime's first request ends its init (status `failure` when it reported an init error instead). */
  const initEnded = (status: InvokeEnd['status'], errorType?: string): number | undefined => {
    if (initClock === undefined) return undefined;
    const durationMs = clock() - initClock;
    initClock = undefined;
    const at = now();
    telemetry.platform({ type: 'initRuntimeDone', at, status, ...(errorType ? { errorType } : {}) });
    telemetry.platform({ type: 'initReport', at, durationMs, status, ...(errorType ? { errorType } : {}) });
    return durationMs;
  };

  return {
    initStarted,
    async beforeInvoke() {
      await lastPhase;
      // A runtime started anew (after a crash or a timeout in an item set) has an init of its own.
      const pid = deps.runtimePid();
      if (started && pid !== runtimePid) initStarted();
      started = true;
      runtimePid = pid;
      await extensions()?.initialized();
    },
    taken(inv) {
      const initDurationMs = initEnded('success');
      extensions()?.invoke(invokeEvent(inv));
      telemetry.initEnded();
      announceStart(deps, inv, now());
      current = { requestId: inv.requestId, traceId: inv.traceId, startClock: clock(), initDurationMs };
    },
    ended(requestId, end) {
      const cur = current;
      if (!cur || cur.requestId !== requestId) {
        // Never taken: the runtime failed its init (or went away) before it asked for the event.
        if (end.status !== 'success') initEnded(end.status, end.errorType);
        return;
      }
      current = undefined;
      reason = shutdownReasonOf(end.status);
      const at = now();
      const durationMs = clock() - cur.startClock;
      deps.write(endLine(deps.format, requestId, { ...end, durationMs }, at));
      telemetry.platform({ type: 'runtimeDone', at, requestId, traceId: cur.traceId, durationMs, ...end });
      // Now: the runtime is ended right after it answered.
      maxMemoryMb = Math.max(maxMemoryMb, peakMemoryMb(deps.runtimePid()));
      lastPhase = report(deps, cur, end, maxMemoryMb).catch(() => {});
    },
    drain: () => lastPhase,
    shutdownReason: () => reason,
  };
}
