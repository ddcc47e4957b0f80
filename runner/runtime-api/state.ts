// What every endpoint handler gets: the lifecycle, the limits, the request and its answer, the path parameters.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtensionRegistry } from '../extensions/registry.js';
import type { TelemetryHub } from '../telemetry/hub.js';
import type { ApiLimits } from './invocation.js';
import type { Lifecycle, Refusal } from './lifecycle.js';
import { ApiErrorType, sendError } from './render.js';

/** A request's TCP connection by its ports: the runtime's end and the Runtime API's. */
export interface ApiConnection {
  clientPort: number;
  serverPort: number;
}

export interface ApiState {
  readonly life: Lifecycle;
  /** The Extensions API's state (the run's extensions, external and internal). */
  readonly extensions: ExtensionRegistry;
  /** The Telemetry and Logs APIs' subscriptions, and their deliveries. */
  readonly telemetry: TelemetryHub;
  readonly limits: ApiLimits;
  /** Posts still being received: the runner waits for them before blaming a runtime exit. */
  readonly inFlight: Set<Promise<unknown>>;
  readonly log: (message: string) => void;
  /** Run on each `next` with its connection; the event is handed out once it settles (RuntimeApi.onNext). */
  nextHook?: (conn: ApiConnection) => Promise<void>;
}

export interface RouteContext {
  state: ApiState;
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters, e.g. the request id. */
  params: Record<string, string>;
}

export function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  const type =
    refusal.errorType === 'InvalidRequestID' ? ApiErrorType.invalidRequestId : ApiErrorType.invalidState;
  sendError(res, refusal.status, type, refusal.message);
}

/** The declared Content-Length when it already exceeds `limit`, else undefined. */
export function declaredOver(ctx: RouteContext, limit: number): number | undefined {
  const declared = Number(ctx.req.headers['content-length'] ?? Number.NaN);
  return Number.isFinite(declared) && declared > limit ? declared : undefined;
}

/** The value of a (request or trailer) header as one string, or undefined. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

/** The request's whole body as text, or undefined when it is larger than `limit` bytes (drained, not kept). */
export async function readBody(ctx: RouteContext, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks).toString('utf8');
}
