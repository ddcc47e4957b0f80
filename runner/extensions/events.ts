// The events an extension gets from `/extension/event/next`, as the Extensions API reference shapes them (INVOKE:
// eventType, deadlineMs, requestId, invokedFunctionArn, tracing; SHUTDOWN: eventType, shutdownReason, deadlineMs), and
// the limits the lifecycle document sets around them.

export const ExtensionEventType = { invoke: 'INVOKE', shutdown: 'SHUTDOWN' } as const;
export type ExtensionEventType = (typeof ExtensionEventType)[keyof typeof ExtensionEventType];

/**
 * Why the environment shuts down. The lifecycle document writes them SPINDOWN, TIMEOUT and FAILURE; Lambda sends them
 * in lower case (the AWS extension samples and the Runtime Interface Emulator compare against "spindown").
 */
export const ShutdownReason = { spindown: 'spindown', timeout: 'timeout', failure: 'failure' } as const;
export type ShutdownReason = (typeof ShutdownReason)[keyof typeof ShutdownReason];

export interface InvokeEvent {
  eventType: typeof ExtensionEventType.invoke;
  /** Epoch ms: when the invocation times out. */
  deadlineMs: number;
  requestId: string;
  invokedFunctionArn: string;
  tracing: { type: 'X-Amzn-Trace-Id'; value: string };
}

export interface ShutdownEvent {
  eventType: typeof ExtensionEventType.shutdown;
  shutdownReason: ShutdownReason;
  /** Epoch ms: when whatever remains is killed. */
  deadlineMs: number;
}

export type ExtensionEvent = InvokeEvent | ShutdownEvent;

/** "You can register up to 10 extensions for a function" (Extensions API, Init phase). */
export const MAX_EXTENSIONS = 10;

/** The Init phase's limit, which the extensions' registration and first `next` must meet (lifecycle document). */
export const EXTENSION_INIT_LIMIT_MS = 10_000;

/** "2,000 ms – a function with one or more registered external extensions" (Extensions API, Shutdown phase). */
export const SHUTDOWN_LIMIT_MS = 2_000;

/** --extension-timeout's default: how long each extension has, after the runtime answered, to ask for its next event. */
export const DEFAULT_EXTENSION_TIMEOUT_S = 2;

export function invokeEvent(inv: {
  requestId: string;
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
}): InvokeEvent {
  return {
    eventType: ExtensionEventType.invoke,
    deadlineMs: inv.deadlineMs,
    requestId: inv.requestId,
    invokedFunctionArn: inv.invokedFunctionArn,
    tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
  };
}

export function shutdownEvent(reason: ShutdownReason, deadlineMs: number): ShutdownEvent {
  return { eventType: ExtensionEventType.shutdown, shutdownReason: reason, deadlineMs };
}
