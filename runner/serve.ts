// Serving a prepared function: the step a single run and an item set's child share. It opens with the run's work
// folder (and, for an external runtime, the Runtime API listening at once: that runtime may be starting already);
// then the function is prepared, its runtime chosen, and a session serves it invocations over the Runtime API
// (listening before a runtime the runner starts, so there is no race) until it closes: the runtime's processes ended,
// the Runtime API closed, an aborted preparation given a moment to clean up after itself, the work folder removed.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NetworkTimeouts, networkTimeouts } from '../lib/aws-config.js';
import { RuntimeNotAvailableError, UsageError } from './errors.js';
import { type ExtensionSummary, summarize } from './extensions/host.js';
import { findExtensions } from './extensions/launch.js';
import type { PreparedFunction } from './function.js';
import { isLocalRef } from './local-function.js';
import type { Logger } from './log.js';
import type { RunOptions } from './options.js';
import { type ExecutionEnvironment, openEnvironment, outputTap } from './platform/environment.js';
import { applyRunOptions, giveCredentials, prepareFunction } from './prepare.js';
import type { RunFacts } from './record/build.js';
import type { RunDeps } from './run-deps.js';
import { runtimeEnv } from './runtime/env.js';
import { externalRuntime } from './runtime/external.js';
import { type InvocationHeaders, invocationHeaders } from './runtime/invocation-headers.js';
import { openSession, type Session } from './runtime/session.js';
import { superviseRuntime } from './runtime/supervisor.js';
import { chooseRuntime, type RuntimeSource } from './runtime/which-runtime.js';
import { type RuntimeApi, startRuntimeApi } from './runtime-api/server.js';
import { abortable, settledWithin } from './stop.js';

/** How long a stopped run waits for the aborted preparation to clean up after itself. */
const PREPARE_STOP_GRACE_MS = 2000;

const noop = () => {};

/** A prepared function, ready to be invoked. */
export interface ServedFunction {
  fn: PreparedFunction;
  /** What each invocation carries (tenant, client context, Cognito identity), checked against the function. */
  headers: InvocationHeaders;
  /** Serves invocations to its runtime, one at a time. */
  session: Session;
}

export interface Serving {
  /** The run's own temp folder (payloads, results, the runner's clients), removed at `close`. */
  readonly workDir: string;
  readonly timeouts: NetworkTimeouts;
  /**
   * Prepares the function, chooses its runtime and opens the session that serves it; once. `facts` learns what
   * GetFunction said, the prepared function and when it was ready. `retryUntaken`: an item set's (session.ts).
   */
  prepare(facts: RunFacts, how?: { retryUntaken?: boolean }): Promise<ServedFunction>;
  /** Ends the runtime (its whole process group): before a result is written or a failure recorded. */
  endRuntime(): Promise<void>;
  /** The function's extensions, as the run record lists them (none before `prepare`). */
  extensions(): ExtensionSummary[];
  /** Ends everything of the serving, whatever state it is in; never throws. */
  close(): Promise<void>;
}

/** Opens the serving of the run's function: its work folder, and the Runtime API at once for an external runtime. */
export async function openServing(opts: RunOptions, deps: RunDeps): Promise<Serving> {
  const { log, signal } = deps;
  const now = deps.now ?? Date.now;
  const local = isLocalRef(opts.functionRef, deps.cwd);
  if (local && opts.assumeFunctionRole)
    throw new UsageError(
      '--assume-function-role is for a deployed function: code from a folder has no execution role',
    );
  const timeouts = networkTimeouts(opts.networkTimeoutSeconds);
  const workDir = await mkdtemp(join(tmpdir(), 'run-lambda-'));
  let api: RuntimeApi | undefined;
  let runtime: RuntimeServing | undefined;
  let preparing: Promise<void> | undefined;
  let cleanupPrepared: (() => Promise<void>) | undefined;
  const close = async () => {
    await runtime?.close(signal?.aborted ?? false).catch(noop);
    await api?.close().catch(noop);
    // A stop rejects at once; the aborted downloads still remove their temp files and cache locks first.
    if (preparing) await settledWithin(preparing, PREPARE_STOP_GRACE_MS);
    await cleanupPrepared?.().catch(noop);
    await rm(workDir, { recursive: true, force: true }).catch(noop);
  };
  try {
    // An external runtime may be starting beside the runner already: it finds the address listening at once.
    if (opts.externalRuntime) api = await listenRuntimeApi(opts.externalRuntime, log);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    workDir,
    timeouts,
    async prepare(facts, how = {}) {
      const prepared = log.step('prepare the function', () =>
        prepareFunction(opts, deps, workDir, local, timeouts, (d) => {
          facts.described = d;
        }),
      );
      // Set however the run ends, so a stopped run still removes a folder prepared after the stop.
      preparing = prepared.then((f) => {
        cleanupPrepared = f.cleanup;
      }, noop);
      const fn = await abortable(prepared, signal);
      facts.fn = fn;
      const headers = invocationHeaders(fn, opts);
      await applyRunOptions(fn, opts, deps, workDir, local);
      await abortable(giveCredentials(fn, opts, deps, { workDir, local, timeouts }), signal);
      const source = await chooseRuntime(fn, {
        ...(opts.externalRuntime ? { external: opts.externalRuntime } : {}),
        env: deps.env,
        officialClientDir: deps.officialClientDir,
        // Written anew for each run, in its own folder: a client in a shared place could have been rewritten by
        // an earlier function (as root, modes do not stop it), and writing ~10 KB costs less than checking it.
        clientDirs: [workDir],
        log,
      });
      facts.prepared = now();
      api ??= await listenRuntimeApi(undefined, log);
      runtime = await serveRuntime(api, fn, source, { opts, deps, retryUntaken: how.retryUntaken ?? false });
      return { fn, headers, session: runtime.session };
    },
    async endRuntime() {
      runtime?.endRuntime();
    },
    extensions: () => (api ? summarize(api.extensions) : []),
    close,
  };
}

/**
 * Listens first (an external runtime may already be trying to connect; a spawned one is started only after):
 * on a free loopback port, or on `at` for an external runtime. Exit 3 when the address cannot be had.
 */
async function listenRuntimeApi(
  at: { host: string; port: number } | undefined,
  log: Logger,
): Promise<RuntimeApi> {
  try {
    const api = await startRuntimeApi({ ...at, log: (m) => log.debug(m) });
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

interface RuntimeServing {
  session: Session;
  environment: ExecutionEnvironment;
  /** Ends the runtime (its group, marked processes, keeper). */
  endRuntime(): void;
  /** Ends the environment (the extensions' SHUTDOWN) and the Runtime API. */
  close(stopped: boolean): Promise<void>;
}

/**
 * The runtime's host on `api` (a process the runner supervises, or an external runtime), the environment around it (its
 * extensions, the platform's lines and events) and the session that serves it.
 */
async function serveRuntime(
  api: RuntimeApi,
  fn: PreparedFunction,
  source: RuntimeSource,
  run: { opts: RunOptions; deps: RunDeps; retryUntaken: boolean },
): Promise<RuntimeServing> {
  const { opts, deps } = run;
  const { log } = deps;
  // One mark for every process of the run; the extensions carry one made from it (extensions/env.ts).
  const runMark = randomUUID();
  const found = source.kind === 'spawned' ? await findExtensions(fn.optDir) : [];
  const host =
    source.kind === 'spawned'
      ? superviseRuntime({
          fn,
          command: source.command,
          runtimeApi: api.address,
          env: deps.env,
          spawn: deps.spawn,
          log,
          memoryEvents: opts.memoryEvents,
          runMark,
          // With extensions, any may subscribe to the function's logs: its output goes through the runner.
          ...(found.length > 0 ? { pipe: () => outputTap(api.telemetry, 'function') } : {}),
        })
      : externalRuntime({
          address: api.address,
          connected: () => api.connected(),
          onNext: (hook) => api.onNext(hook),
          initTimeoutSeconds: source.initTimeoutSeconds,
          log,
        });
  const environment = await openEnvironment({
    fn,
    api,
    host,
    ...(source.kind === 'spawned'
      ? {
          runtimeEnv: runtimeEnv({
            runMark,
            fn,
            base: deps.env,
            runtimeApi: api.address,
            runtimeDir: source.command.runtimeDir,
          }),
        }
      : {}),
    runMark,
    found,
    extensionTimeoutSeconds: opts.extensionTimeoutSeconds,
    env: deps.env,
    log,
    spawn: deps.spawn,
  });
  const session = openSession({
    api,
    host,
    invokedFunctionArn: fn.invokedFunctionArn,
    log,
    signal: deps.signal,
    now: deps.now,
    retryUntaken: run.retryUntaken,
    job: deps.job,
    observer: environment.phases,
  });
  return {
    session,
    environment,
    endRuntime: () => host.end(),
    async close(stopped) {
      await environment.shutdown(stopped, () => host.end());
      await api.close();
    },
  };
}
