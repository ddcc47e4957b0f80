// Gets the function ready to run: its code (local, or GetFunction and downloads), then the run's options over its
// configuration. What serves it is runtime/which-runtime.ts's choice.
import type { NetworkTimeouts } from '../lib/aws-config.js';
import { loadAws } from './aws-module.js';
import type { FunctionIdentity, PreparedFunction } from './function.js';
import { prepareLocalFunction } from './local-function.js';
import { DEFAULT_OPT_DIR, type RunOptions } from './options.js';
import type { RunDeps } from './run-deps.js';
import { prepareCompatShim } from './runtime/compat/shim.js';
import { functionEnvironment } from './runtime/env.js';
import { checkLocalArchitecture } from './runtime/native-files.js';
import { checkRunnerImage } from './runtime/runner-image.js';

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
    const fn = await prepareLocalFunction(opts.functionRef, {
      handler: opts.handler,
      runtime: opts.runtime,
      compat: opts.compat,
      optDir: opts.optDir,
      workDir,
      cwd: deps.cwd,
      env: deps.env,
      log: deps.log,
    });
    const architecture = await deps.log.step('check the native files', () =>
      checkLocalArchitecture({
        functionName: fn.functionName,
        runtime: fn.runtime,
        // The machine's own /opt holds more than layers; a folder named by --opt-dir is the layers'.
        roots: opts.optDir === DEFAULT_OPT_DIR ? [fn.taskRoot] : [fn.taskRoot, opts.optDir],
        ignore: opts.ignoreArchitecture,
        env: deps.env,
        log: deps.log,
      }),
    );
    return architecture ? { ...fn, architecture } : fn;
  }
  // Loaded only here: a local run never pays for the AWS SDK.
  const { prepareDeployedFunction } = await loadAws(workDir);
  return prepareDeployedFunction(opts.functionRef, {
    cacheDir: opts.cacheDir,
    useCache: opts.useCache,
    optDir: opts.optDir,
    log: deps.log,
    env: deps.env,
    signal: deps.signal,
    timeouts,
    describeOnly: opts.externalRuntime !== undefined,
    ignoreArchitecture: opts.ignoreArchitecture,
    ...(onDescribed ? { onDescribed } : {}),
  });
}

/**
 * The run's options over the function's configuration: its environment as a process can take it, --handler and
 * --runtime; for a runtime the runner starts, also the runtime this image serves and the cirrus-v0 shim.
 */
export async function applyRunOptions(
  fn: PreparedFunction,
  opts: RunOptions,
  deps: RunDeps,
  workDir: string,
  local: boolean,
): Promise<void> {
  const { log, env } = deps;
  fn.environment = functionEnvironment(fn.environment, (m) => log.warn(m));
  if (opts.handler) fn.handler = opts.handler;
  if (opts.runtime) fn.runtime = opts.runtime;
  // The runtime, its image and its environment are the other container's; this image's runtime is beside the point.
  if (opts.externalRuntime) return;
  fn.runtime = checkRunnerImage({
    functionName: fn.functionName,
    runtime: fn.runtime,
    guessed: local && !opts.runtime,
    env,
  });
  if (opts.compat) fn.compatShim = await prepareCompatShim(fn, workDir);
}

/**
 * The credentials a deployed function's runtime and extensions get (aws/credentials.ts): the job role's, or with
 * --assume-function-role its execution role's. Local code keeps what the caller's environment has; an external runtime
 * has the environment its own container gives it.
 */
export async function giveCredentials(
  fn: PreparedFunction,
  opts: RunOptions,
  deps: RunDeps,
  how: { workDir: string; local: boolean; timeouts: NetworkTimeouts },
): Promise<void> {
  if (opts.externalRuntime && opts.assumeFunctionRole)
    deps.log.warn(
      "--assume-function-role does not apply with --external-runtime: the function's own container has its credentials",
    );
  if (how.local || opts.externalRuntime) return;
  const { functionCredentials } = await loadAws(how.workDir);
  fn.credentials = await functionCredentials(fn, {
    env: deps.env,
    log: deps.log,
    timeouts: how.timeouts,
    assumeFunctionRole: opts.assumeFunctionRole,
  });
}
