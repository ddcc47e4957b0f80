// The Runtime API server: listens before the runtime starts, then serves it a sequence of invocations, one at a time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExtensionRegistry } from '../extensions/registry.js';
import { TelemetryHub } from '../telemetry/hub.js';
import {
  type ApiLimits,
  defaultLimits,
  type ErrorReport,
  type Invocation,
  LAMBDA_PAYLOAD_LIMIT,
  type Outcome,
} from './invocation.js';
import { Lifecycle, type Phase } from './lifecycle.js';
import { ApiErrorType, sendError } from './render.js';
import { isRuntimePath, match } from './routes.js';
import type { ApiConnection, ApiState } from './state.js';

export type { ApiLimits, ErrorReport, Invocation, Outcome, StoredResult } from './invocation.js';
export { defaultLimits } from './invocation.js';
export type { Phase } from './lifecycle.js';
export type { ApiConnection } from './state.js';

export interface RuntimeApiDeps {
  /** Default 127.0.0.1; `0.0.0.0` or a container's address for a runtime elsewhere. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  limits?: Partial<ApiLimits>;
  log?: (message: string) => void;
  /** The Extensions API's state (a fresh, empty one by default). */
  extensions?: ExtensionRegistry;
  /** The Telemetry and Logs APIs' subscriptions (a fresh hub by default). */
  telemetry?: TelemetryHub;
}

export interface RuntimeApi {
  /** `host:port`, the value of AWS_LAMBDA_RUNTIME_API. */
  readonly address: string;
  /** Where the runtime is in its lifecycle. */
  readonly phase: Phase;
  /** The Extensions API's state, served on the same address. */
  readonly extensions: ExtensionRegistry;
  /** The Telemetry and Logs APIs' subscriptions and deliveries, served on the same address. */
  readonly telemetry: TelemetryHub;
  /**
   * Offers one invocation: the next `next` (held until now, or still to come) gets it. Resolves with its
   * outcome; never rejects once accepted. Throws when an invocation is still out (one at a time) or its
   * request id was used before. After an init error, resolves at once with that error until `reset`.
   */
  invoke(invocation: Invocation): Promise<Outcome>;
  /** Resolves at the first request of the current runtime (since start or the last `reset`). */
  connected(): Promise<void>;
  /** Resolves with the current runtime's init error, if it reports one. */
  initError(): Promise<ErrorReport>;
  /**
   * The runtime process was replaced (it died and a fresh one starts): an invocation still out ends as
   * `runtime-lost` (as `errorType`, if given), held `next`s are dropped, and the state is `init` again. Old request
   * ids stay refused.
   */
  reset(reason: string, errorType?: string): void;
  /**
   * Runs `hook` on each `next` request with its connection's ports, and hands the event out only once it settled: the
   * connection is still open while the hook looks for the process at its other end.
   */
  onNext(hook: (conn: ApiConnection) => Promise<void>): void;
  /** Waits for posts still being received (so an exit right after a post is not mistaken for a crash). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Room for an error's X-Ray header as large as the error body itself may be. */
const MAX_HEADER_BYTES = 2 * LAMBDA_PAYLOAD_LIMIT;

export async function startRuntimeApi(deps: RuntimeApiDeps = {}): Promise<RuntimeApi> {
  const life = new Lifecycle();
  const state: ApiState = {
    life,
    limits: { ...defaultLimits, ...deps.limits },
    inFlight: new Set(),
    log: deps.log ?? (() => {}),
    extensions: deps.extensions ?? new ExtensionRegistry(),
    telemetry: deps.telemetry ?? new TelemetryHub(),
  };
  // The official clients send the X-Ray cause of an error as a header (the Python one up to 1 MiB, the Node.js
  // one unbounded: the message and stack again); Node's default 16 KiB would answer 431 before any handler.
  const server: Server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    // Only the runtime's own requests say that it is there (an extension's do not).
    if (isRuntimePath(req.url ?? '')) life.touch();
    const found = match(req.method ?? 'GET', req.url ?? '/');
    if ('status' in found) {
      const msg = `${req.method} ${req.url} is not a Runtime, Extensions, Telemetry or Logs API call`;
      sendError(res, found.status, ApiErrorType.notFound, msg);
      return;
    }
    const work = found.route.handle({ state, req, res, params: found.params }).catch((err: unknown) => {
      state.log(`runtime API ${req.method} ${req.url} failed: ${String(err)}`);
      if (!res.headersSent) sendError(res, 400, ApiErrorType.badRequest, String(err));
      else res.destroy();
    });
    if (req.method === 'POST') {
      state.inFlight.add(work);
      void work.finally(() => state.inFlight.delete(work));
    }
  });
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    state.log(`runtime API: a request could not be read (${err.code ?? err.message})`);
    socket.destroy();
  });
  // A handler may run for hours between calls, and results may take long to upload: no server-side timeouts.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port ?? 0, deps.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `${address.includes(':') ? `[${address}]` : address}:${port}`,
    get phase() {
      return life.phase;
    },
    extensions: state.extensions,
    telemetry: state.telemetry,
    invoke: (invocation) => life.offer(invocation),
    connected: () => life.connected(),
    initError: () => life.initError(),
    reset: (reason, errorType) => life.reset(reason, errorType),
    onNext(hook) {
      state.nextHook = hook;
    },
    async settled() {
      while (state.inFlight.size > 0) await Promise.allSettled([...state.inFlight]);
    },
    close() {
      life.close();
      state.telemetry.close();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
