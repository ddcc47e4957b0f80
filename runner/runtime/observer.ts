// What watches each invocation of a session (runner/platform/phases.ts: the extensions' events, START/END/REPORT,
// telemetry), and how an invocation's end reads to it: the REPORT's and telemetry's `status` and `errorType`.
import { FunctionError, TimeoutError } from '../errors.js';
import type { Outcome } from '../runtime-api/server.js';
import { RuntimeLossType } from './host.js';

/** How an invocation ended, as the platform reports it (REPORT's status, telemetry's `status` and `errorType`). */
export interface InvokeEnd {
  status: 'success' | 'failure' | 'timeout' | 'error';
  errorType?: string;
  /** the result's size, when the runtime answered with one */
  producedBytes?: number;
}

/** What watches each invocation's phases (runner/platform/phases.ts: extensions, START/END/REPORT, telemetry). */
export interface InvocationObserver {
  /** Before an invocation is offered: init must be over and the last invocation's phase ended; rejects with the run's error. */
  beforeInvoke(): Promise<void>;
  /** The runtime took the event. */
  taken(inv: { requestId: string; deadlineMs: number; invokedFunctionArn: string; traceId: string }): void;
  /** The invocation ended (taken or not). */
  ended(requestId: string, end: InvokeEnd): void;
}

/** An outcome of the Runtime API as the platform reports it. */
export function endOfOutcome(o: Outcome): InvokeEnd {
  if (o.kind === 'response') return { status: 'success', producedBytes: o.bytes };
  if (o.kind === 'error' || o.kind === 'init-error') return { status: 'failure', errorType: o.errorType };
  if (o.kind === 'runtime-lost') return { status: 'error', errorType: o.errorType ?? RuntimeLossType.exit };
  return { status: 'error' };
}

/** An error that ended an invocation before its outcome, as the platform reports it. */
export function endOfError(err: unknown): InvokeEnd {
  if (err instanceof TimeoutError) return { status: 'timeout' };
  return { status: 'error', ...(err instanceof FunctionError ? { errorType: err.name } : {}) };
}
