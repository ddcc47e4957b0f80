// Gets the function ready to run: its code (local, or GetFunction and downloads), the options that override its
// configuration, and what serves it (the runtime process to start, or an external runtime to wait for).
import type { NetworkTimeouts } from '../lib/aws-config.js';
import { loadAws } from './aws-module.js';
import type { FunctionIdentity, PreparedFunction } from './function.js';
import { prepareLocalFunction } from './local.js';
import type { RunOptions } from './options.js';
import type { RunDeps } from './run-deps.js';
import { prepareCompatShim } from './runtime/compat.js';
import { functionEnvironment } from './runtime/env.js';
import { checkImageRuntime } from './runtime/image-runtime.js';
import { type RuntimeSource, selectRuntime } from './runtime/select.js';

export type Prepared = PreparedFunction & { cleanup?(): Promise<void> };

/** The function's code on disk (or, with --external-runtime, only its configuration): local or deployed. */
export async function prepareFunction(
  opts: RunOptions,
  deps: RunDeps,
  workDir: string,
  local: boolean,
  timeouts: NetworkTimeouts,
  onDescribed?: (identity: FunctionIdentity) => void,
): Promise<Prepared> {
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
    describeOnly: opts.externalRuntime !== undefined,
    ...(onDescribed ? { onDescribed } : {}),
  });
}

/**
 * Applies the run's options to the prepared function and picks what serves it: the runtime process the runner starts
 * (first match of DESIGN.md's list), or, with --external-runtime, the runtime that will connect.
 */
export async function runtimeFor(
  fn: PreparedFunction,
  opts: RunOptions,
  deps: RunDeps,
  workDir: string,
  local: boolean,
): Promise<RuntimeSource> {
  const { log, env } = deps;
  fn.environment = functionEnvironment(fn.environment, (m) => log.warn(m));
  if (opts.handler) fn.handler = opts.handler;
  if (opts.runtime) fn.runtime = opts.runtime;
  const ext = opts.externalRuntime;
  if (ext) {
    // The runtime, its image and its environment are the other container's; this image's runtime is beside the point.
    log.info(`${fn.functionName}: served to the runtime that connects to ${ext.host}:${ext.port}`);
    return { kind: 'external', ...ext };
  }
  fn.runtime = checkImageRuntime({
    functionName: fn.functionName,
    runtime: fn.runtime,
    guessed: local && !opts.runtime,
    env,
  });
  if (opts.compat) fn.compatShim = await prepareCompatShim(fn, workDir);
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
  return { kind: 'spawned', command };
}
