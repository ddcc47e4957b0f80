// One run, in order: read the URLs, fetch the payload while the function is prepared, invoke once, commit the result.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { type NetworkTimeouts, networkTimeouts } from '../lib/aws-config.js';
import type { Env } from '../lib/env.js';
import { loadAws } from './aws-module.js';
import { StoppedBySignalError } from './errors.js';
import type { PreparedFunction } from './function.js';
import { isLocalRef, prepareLocalFunction } from './local.js';
import type { Logger } from './log.js';
import type { RunOptions } from './options.js';
import { fetchPayload, parsePayloadUrl } from './payload/source.js';
import { checkNotTheInput, defaultOutputUrl, parseOutputUrl, prepareResultSlot } from './payload/target.js';
import { prepareCompatShim } from './runtime/compat.js';
import { functionEnvironment } from './runtime/env.js';
import { checkImageRuntime } from './runtime/image-runtime.js';
import { invocationHeaders } from './runtime/invocation-headers.js';
import { invokeOnce } from './runtime/invoke.js';
import type { SpawnFn } from './runtime/process.js';
import { selectRuntime } from './runtime/select.js';

export interface RunDeps {
  env: Env;
  cwd: string;
  stdin: Readable;
  stdout: Writable;
  log: Logger;
  spawn: SpawnFn;
  /** Aborted with the signal name (e.g. 'SIGTERM') as its reason. */
  signal?: AbortSignal;
  /** The Lambda base images' runtime folder (default /var/runtime). */
  imageRuntimeDir?: string;
}

export interface RunResult {
  /** Where the result went: a path, an s3:// URL or "stdout". */
  where: string;
  bytes: number;
}

/** Rejects with StoppedBySignalError as soon as `signal` aborts (for steps that cannot be interrupted). */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StoppedBySignalError((signal.reason as NodeJS.Signals) ?? 'SIGTERM'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** How long a stopped run waits for the aborted preparation to clean up after itself. */
const PREPARE_STOP_GRACE_MS = 2000;

function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const noop = () => {};

export async function run(opts: RunOptions, deps: RunDeps): Promise<RunResult> {
  try {
    return await runOnce(opts, deps);
  } catch (err) {
    // After a stop, whatever failed failed because of it (a cut stdin read, an aborted GetObject): the run
    // was stopped, exit 128+N, never a retried 4 or a function error.
    const signal = deps.signal;
    if (signal?.aborted && !(err instanceof StoppedBySignalError)) {
      const stopped = new StoppedBySignalError((signal.reason as NodeJS.Signals) ?? 'SIGTERM');
      deps.log.debug(`after the stop: ${(err as Error)?.message ?? String(err)}`);
      throw stopped;
    }
    throw err;
  }
}

async function runOnce(opts: RunOptions, deps: RunDeps): Promise<RunResult> {
  const { log, env, signal } = deps;
  const outputUrl = opts.outputUrl ?? defaultOutputUrl(opts.payloadUrl);
  const source = parsePayloadUrl(opts.payloadUrl, deps.cwd);
  const target = parseOutputUrl(outputUrl, deps.cwd);
  await checkNotTheInput(source, target);
  const local = isLocalRef(opts.functionRef, deps.cwd);
  const timeouts = networkTimeouts(opts.networkTimeoutSeconds);
  const workDir = await mkdtemp(join(tmpdir(), 'run-lambda-'));
  let cleanupRemote: (() => Promise<void>) | undefined;
  let discard: (() => Promise<void>) | undefined;
  let preparing: Promise<void> | undefined;
  try {
    const payload = fetchPayload(source, { workDir, stdin: deps.stdin, log, env, signal, timeouts });
    // Awaited later (by the Runtime API's `next`); a failure before then must not be an unhandled rejection.
    payload.ready.catch(() => {});
    const slot = await log.step('check the output', () =>
      prepareResultSlot(target, { ...deps, workDir, timeouts }),
    );
    discard = slot.discard;
    const prepared = log.step('prepare the function', () => prepare(opts, deps, workDir, local, timeouts));
    // Set however the run ends, so a stopped run still removes a folder prepared after the stop.
    preparing = prepared.then((f) => {
      if ('cleanup' in f) cleanupRemote = f.cleanup;
    }, noop);
    const fn = await abortable(prepared, signal);
    fn.environment = functionEnvironment(fn.environment, (m) => log.warn(m));
    if (opts.handler) fn.handler = opts.handler;
    if (opts.runtime) fn.runtime = opts.runtime;
    fn.runtime = checkImageRuntime({
      functionName: fn.functionName,
      runtime: fn.runtime,
      guessed: local && !opts.runtime,
      env,
    });
    if (opts.compat) fn.compatShim = await prepareCompatShim(fn, workDir);
    const headers = invocationHeaders(fn, opts);
    const command = await log.step('select the runtime', () =>
      selectRuntime({
        runtime: fn.runtime,
        taskRoot: fn.taskRoot,
        optDir: fn.optDir,
        env,
        imageRuntimeDir: deps.imageRuntimeDir,
        // Written anew for each run, in its own folder: a client in a shared place could have been rewritten by
        // an earlier function (as root, modes do not stop it), and writing ~10 KB costs less than checking it.
        clientDirs: [workDir],
      }),
    );
    log.info(`${fn.functionName}: ${fn.handler} on ${fn.runtime}, served by ${command.label}`);
    const { bytes, crc32 } = await log.step('invoke', () =>
      invokeOnce({
        fn,
        command,
        payload,
        resultPath: slot.resultPath,
        timeoutSeconds: opts.timeoutSeconds,
        compat: opts.compat,
        headers,
        env,
        spawn: deps.spawn,
        log,
        signal,
      }),
    );
    const where = await abortable(
      log.step('write the result', () => slot.commit(crc32 === undefined ? {} : { crc32 })),
      signal,
    );
    discard = undefined;
    log.info(`result (${bytes} bytes) written to ${where}`);
    return { where, bytes };
  } finally {
    // A stop rejects at once; the aborted downloads still remove their temp files and cache locks first.
    if (preparing) await settledWithin(preparing, PREPARE_STOP_GRACE_MS);
    await discard?.().catch(() => {});
    await cleanupRemote?.().catch(() => {});
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
}

async function prepare(
  opts: RunOptions,
  deps: RunDeps,
  workDir: string,
  local: boolean,
  timeouts: NetworkTimeouts,
): Promise<PreparedFunction | (PreparedFunction & { cleanup(): Promise<void> })> {
  if (local) {
    return prepareLocalFunction(opts.functionRef, {
      handler: opts.handler,
      runtime: opts.runtime,
      compat: opts.compat,
      optDir: opts.optDir,
      workDir,
      cwd: deps.cwd,
      env: deps.env,
      log: deps.log,
    });
  }
  // Loaded only here: a local run never pays for the AWS SDK.
  const { prepareRemoteFunction } = await loadAws(workDir);
  return prepareRemoteFunction(opts.functionRef, {
    cacheDir: opts.cacheDir,
    useCache: opts.useCache,
    optDir: opts.optDir,
    log: deps.log,
    env: deps.env,
    signal: deps.signal,
    timeouts,
  });
}
