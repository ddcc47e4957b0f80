// The one invocation a run serves, its lifecycle, and what the runtime reported: shared by the endpoint handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { ApiErrorType, sendError } from './render.js';

/** The invocation as the runtime sees it on `next`. */
export interface Invocation {
  requestId: string;
  /** Epoch milliseconds: `Lambda-Runtime-Deadline-Ms`. */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
  /** Opens the event; may wait until the payload has arrived (so the runtime can start before it). */
  openEvent(): Promise<{ stream: Readable; size?: number }>;
  /** Where the response body is streamed to (created by the `response` endpoint). */
  resultPath: string;
  /**
   * Told the size and CRC-32 of the result once it is stored, just before the outcome settles: the upload
   * sends the checksum with the result instead of reading the file again to compute it.
   */
  resultStored?: (info: { bytes: number; crc32: number }) => void;
}

/** What the runtime reported: the result (in `resultPath`), a handler error, or an init error. */
export type Outcome =
  | { kind: 'response'; bytes: number }
  /** the runtime sent a result but the runner could not store it (its own disk: full, read-only…) */
  | { kind: 'result-not-stored'; message: string }
  | { kind: 'error' | 'init-error'; errorType: string; errorMessage: string; stackTrace?: unknown };

/** `init` until `next` hands out the event; `invoking` until a response or error; then `done`. */
export type Phase = 'init' | 'invoking' | 'done';

export interface ApiLimits {
  /** Largest response body accepted (413 above). */
  maxResponseBytes: number;
  /** Largest error body accepted (413 above); error bodies are parsed in memory. */
  maxErrorBytes: number;
}

export interface ApiState {
  readonly invocation: Invocation;
  readonly limits: ApiLimits;
  phase: Phase;
  /** Settles the run's outcome (only the first call counts). */
  settle(outcome: Outcome): void;
  /** Requests that never get an answer (a second `next`): ended when the server closes. */
  parked: Set<ServerResponse>;
  /** Posts still being received: the runner waits for them before blaming a runtime exit. */
  inFlight: Set<Promise<unknown>>;
  log: (message: string) => void;
}

export interface RouteContext {
  state: ApiState;
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters, e.g. the request id. */
  params: Record<string, string>;
}

/** 403 unless the invocation is in flight, 400 unless the id is the one handed out. True when the call may go on. */
export function checkInvocationCall(ctx: RouteContext): boolean {
  const { state, params, res } = ctx;
  if (state.phase !== 'invoking') {
    sendError(res, 403, ApiErrorType.invalidState, `no invocation in flight (state: ${state.phase})`);
    return false;
  }
  if (params.requestId !== state.invocation.requestId) {
    sendError(res, 400, ApiErrorType.invalidRequestId, `unknown request id ${params.requestId ?? ''}`);
    return false;
  }
  return true;
}

/** True when a declared Content-Length already exceeds `limit` (answered with 413). */
export function refuseDeclaredTooLarge(ctx: RouteContext, limit: number): boolean {
  const declared = Number(ctx.req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    sendError(
      ctx.res,
      413,
      ApiErrorType.tooLarge,
      `body of ${declared} bytes exceeds the ${limit}-byte limit`,
    );
    return true;
  }
  return false;
}
