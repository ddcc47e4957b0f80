// Puts the pieces of serving together: the Runtime API listening first, then the runtime's host (a process the runner
// supervises, or an external runtime that connects), and the session that serves invocations to it.
import type { Env } from '../../lib/env.js';
import { RuntimeNotAvailableError } from '../errors.js';
import type { PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import type { Compat } from '../options.js';
import { type ApiLimits, type RuntimeApi, startRuntimeApi } from '../runtime-api/server.js';
import type { JobClock } from './deadline.js';
import { externalRuntime } from './external.js';
import type { RuntimeHost } from './host.js';
import type { SpawnFn } from './process.js';
import type { RuntimeCommand } from './select.js';
import { openSession, type Session } from './session.js';
import { superviseRuntime } from './supervisor.js';

export { NO_TIMEOUT_DEADLINE_MS, traceId } from './session.js';
export { STOP_GRACE_MS } from './supervisor.js';

/** Which runtime is served: one the runner starts, or one started elsewhere that connects to `host:port`. */
export type RuntimeSource =
  | { kind: 'spawned'; command: RuntimeCommand }
  | { kind: 'external'; host: string; port: number; initTimeoutSeconds: number };

export interface ServingInput {
  fn: PreparedFunction;
  runtime: RuntimeSource;
  compat?: Compat;
  env: Env;
  spawn: SpawnFn;
  log: Logger;
  signal?: AbortSignal;
  /** Epoch milliseconds. */
  now?: () => number;
  stopGraceMs?: number;
  /** An item set: an invocation its runtime never took is offered again to a fresh one (session.ts). */
  retryUntaken?: boolean;
  /** The job's budget (--job-timeout), which bounds every invocation's deadline. */
  job?: JobClock;
  /** --memory-events: the cgroup file that tells a spawned runtime's out-of-memory kill */
  memoryEvents?: string;
}

export interface Serving {
  session: Session;
  host: RuntimeHost;
  /** The Runtime API's `host:port`. */
  address: string;
  /** Ends the runtime (its group, marked processes, keeper) and the Runtime API. */
  close(): Promise<void>;
}

/**
 * Listens first (an external runtime may already be trying to connect; a spawned one is started only after):
 * on a free loopback port, or on `at` for an external runtime. Exit 3 when the address cannot be had.
 */
export async function listenRuntimeApi(
  at: { host: string; port: number } | undefined,
  log: Logger,
  limits?: Partial<ApiLimits>,
): Promise<RuntimeApi> {
  try {
    const api = await startRuntimeApi({ ...at, limits, log: (m) => log.debug(m) });
    if (at) log.info(`listening for the function's runtime on ${api.address} (its AWS_LAMBDA_RUNTIME_API)`);
    else log.debug(`runtime API listening on ${api.address}`);
    return api;
  } catch (err) {
    const where = at ? `${at.host}:${at.port}` : 'a free port on 127.0.0.1';
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use' : (err as Error).message;
    throw new RuntimeNotAvailableError(`cannot serve the Runtime API on ${where}: ${why}`, { cause: err });
  }
}

/** The runtime's host on `api` (a supervised process, or an external runtime) and the session that serves it. */
export function serveOn(api: RuntimeApi, input: ServingInput): Serving {
  const { log } = input;
  const src = input.runtime;
  const host =
    src.kind === 'spawned'
      ? superviseRuntime({
          fn: input.fn,
          command: src.command,
          runtimeApi: api.address,
          env: input.env,
          compat: input.compat,
          spawn: input.spawn,
          log,
          stopGraceMs: input.stopGraceMs,
          memoryEvents: input.memoryEvents,
        })
      : externalRuntime({
          address: api.address,
          connected: () => api.connected(),
          onNext: (hook) => api.onNext(hook),
          initTimeoutSeconds: src.initTimeoutSeconds,
          log,
        });
  const session = openSession({
    api,
    host,
    invokedFunctionArn: input.fn.invokedFunctionArn,
    log,
    signal: input.signal,
    now: input.now,
    retryUntaken: input.retryUntaken,
    job: input.job,
  });
  return {
    session,
    host,
    address: api.address,
    async close() {
      host.end();
      await api.close();
    },
  };
}
