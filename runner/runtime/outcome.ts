// How one invocation ended (the Runtime API's Outcome) as the run sees it: the result's size, or the runner's error type.
import { FunctionError, InvalidPayloadError, PayloadIOError } from '../errors.js';
import type { Outcome } from '../runtime-api/invocation.js';

/** Longest stack trace kept for the run record (lines); the rest is one line saying how many were left out. */
const MAX_TRACE_LINES = 200;

/** A runtime's `stackTrace` (a list of strings from the official clients, sometimes one string) as lines. */
export function traceLines(trace: unknown): string[] {
  const lines = Array.isArray(trace)
    ? trace.map((l) => (typeof l === 'string' ? l : (JSON.stringify(l) ?? String(l))))
    : typeof trace === 'string'
      ? trace.split('\n')
      : [];
  if (lines.length <= MAX_TRACE_LINES) return lines;
  return [...lines.slice(0, MAX_TRACE_LINES), `… ${lines.length - MAX_TRACE_LINES} more lines`];
}

export function toResult(o: Outcome): { bytes: number } {
  if (o.kind === 'response') return { bytes: o.bytes };
  if (o.kind === 'result-not-stored') throw new PayloadIOError(`cannot store the result: ${o.message}`);
  if (o.kind === 'runtime-lost') throw new FunctionError(o.errorType ?? 'Runtime.ExitError', o.reason);
  if (o.kind === 'event-not-read') throw new PayloadIOError(`cannot read the payload: ${o.message}`);
  if (o.errorType === 'Runtime.UnmarshalError')
    throw new InvalidPayloadError(unmarshalMessage(o.errorMessage));
  throw new FunctionError(o.errorType, o.errorMessage, traceLines(o.stackTrace));
}

/**
 * The runtime's words for an event it could not parse, without any quoted payload text (some JSON parsers
 * quote the input around the fault; that must not reach a log line above debug).
 */
export function unmarshalMessage(clientMessage: string): string {
  const detail = clientMessage.replace(/^Unable to unmarshal input:\s*/, '');
  const safe = !/["'`]/.test(detail) && detail.length <= 300;
  return `the payload is not JSON${safe && detail ? `: ${detail}` : ' (the runtime could not parse it)'}`;
}
