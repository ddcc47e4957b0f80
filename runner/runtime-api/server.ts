// The Runtime API server: listens on 127.0.0.1 before the runtime starts, serves one invocation, reports its outcome.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiErrorType, sendError } from './render.js';
import { match } from './routes.js';
import type { ApiLimits, ApiState, Invocation, Outcome } from './state.js';

export type { Invocation, Outcome } from './state.js';

export interface RuntimeApiOptions {
  invocation: Invocation;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  limits?: Partial<ApiLimits>;
  log?: (message: string) => void;
}

export interface RuntimeApi {
  /** `host:port`, the value of AWS_LAMBDA_RUNTIME_API. */
  readonly address: string;
  /** Settles once, with the runtime's response, error or init error. */
  readonly outcome: Promise<Outcome>;
  /** Waits for posts still being received (so an exit right after a post is not mistaken for a crash). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export const defaultLimits: ApiLimits = {
  // The runner exists for results Lambda cannot carry (6 MB), so responses are bounded only by the disk.
  maxResponseBytes: Number.MAX_SAFE_INTEGER,
  maxErrorBytes: 1024 * 1024,
};

export async function startRuntimeApi(opts: RuntimeApiOptions): Promise<RuntimeApi> {
  let settle!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const state: ApiState = {
    invocation: opts.invocation,
    limits: { ...defaultLimits, ...opts.limits },
    phase: 'init',
    settle,
    parked: new Set(),
    inFlight: new Set(),
    log: opts.log ?? (() => {}),
  };
  const server: Server = createServer((req, res) => {
    const found = match(req.method ?? 'GET', req.url ?? '/');
    if ('status' in found) {
      const msg = `${req.method} ${req.url} is not a Runtime API call`;
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
  // A handler may run for hours between calls, and results may take long to upload: no server-side timeouts.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `${address}:${port}`,
    outcome,
    async settled() {
      while (state.inFlight.size > 0) await Promise.allSettled([...state.inFlight]);
    },
    close() {
      for (const res of state.parked) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
