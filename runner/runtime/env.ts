// Lambda's environment for the runtime process: the container's env, the function's variables, Lambda's reserved ones.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { FALLBACK_REGION, regionFromEnv } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { RUN_LAMBDA_JOB, RUNNER_ENV_PREFIX } from '../../lib/job-plan.js';
import { FunctionPrepareError } from '../errors.js';
import type { PreparedFunction } from '../function.js';

export interface RuntimeEnvDeps {
  fn: PreparedFunction;
  /** The runner's own environment: passed through (container credentials, AWS_BATCH_JOB_ID, HOME…). */
  base: Env;
  runtimeApi: string;
  runtimeDir: string;
  now?: () => Date;
  /** A value unique to this run, put in every runtime process's environment (RUN_MARK) to find them all. */
  runMark?: string;
}

/** The variable that marks every process of a run (see runtime/leftovers.ts). */
export const RUN_MARK = 'RUN_LAMBDA_RUN_ID';

/**
 * Where else the SDKs would find credentials: gone when the function is given its own, so that it runs with exactly
 * those (and cannot reach the job role's endpoint when it runs with its execution role).
 */
const OTHER_CREDENTIAL_SOURCES = [
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_PROFILE',
];

/** The credentials variables as Lambda sets them, in place of every other source. */
function credentialsEnv(env: Record<string, string>, fn: PreparedFunction): void {
  const c = fn.credentials;
  if (!c) return;
  for (const k of OTHER_CREDENTIAL_SOURCES) delete env[k];
  env.AWS_ACCESS_KEY_ID = c.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = c.secretAccessKey;
  if (c.sessionToken) env.AWS_SESSION_TOKEN = c.sessionToken;
  else delete env.AWS_SESSION_TOKEN;
}

/**
 * The function's own variables as the runtime gets them. `RUN_LAMBDA_*` are the runner's settings, set by the
 * runner alone: a function that configures one (`RUN_LAMBDA_COMPAT` in its Lambda configuration) must not
 * switch the runner or its clients into a mode, so they are dropped, with one warning naming them. A NUL in
 * a name or value cannot be passed to a process at all: refused before the function starts, naming the
 * variable (never its value, which may be a secret).
 */
export function functionEnvironment(
  vars: Readonly<Record<string, string>>,
  warn: (message: string) => void,
): Record<string, string> {
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(vars)) {
    const bad =
      k === '' || k.includes('=') || k.includes('\0')
        ? 'its name is empty or holds = or a NUL byte'
        : String(v).includes('\0')
          ? 'its value holds a NUL byte'
          : undefined;
    if (bad) {
      throw new FunctionPrepareError(
        `the function's environment variable ${JSON.stringify(k)} cannot be passed to a process: ${bad}`,
      );
    }
    if (k.startsWith(RUNNER_ENV_PREFIX)) dropped.push(k);
    else kept[k] = v;
  }
  if (dropped.length > 0) {
    warn(
      `ignoring the function's ${dropped.join(', ')}: RUN_LAMBDA_* variables are the runner's own settings (give them to the runner, as flags or in the job's environment)`,
    );
  }
  return kept;
}

const join2 = (...parts: (string | undefined)[]) => parts.filter(Boolean).join(delimiter);

/** Layers put Python packages under /opt/python and /opt/python/lib/pythonX.Y/site-packages. */
function pythonLayerPaths(optDir: string): string[] {
  const paths = [join(optDir, 'python')];
  try {
    for (const d of readdirSync(join(optDir, 'python', 'lib'))) {
      if (d.startsWith('python')) paths.push(join(optDir, 'python', 'lib', d, 'site-packages'));
    }
  } catch {
    // no python layer
  }
  return paths;
}

export function logStreamName(now: Date, version: string): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}

export function runtimeEnv(deps: RuntimeEnvDeps): Record<string, string> {
  const { fn, base } = deps;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    // The runner's own options are not the function's business.
    if (v !== undefined && !k.startsWith(RUNNER_ENV_PREFIX)) env[k] = v;
  }
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(fn.environment)) if (!k.startsWith(RUNNER_ENV_PREFIX)) own[k] = v;
  const region = fn.region ?? regionFromEnv(base) ?? FALLBACK_REGION;
  const opt = fn.optDir;
  const nodeMajor = process.versions.node.split('.')[0];
  Object.assign(env, { LANG: env.LANG ?? 'en_US.UTF-8' }, own, {
    _HANDLER: fn.compatShim?.handler ?? fn.handler,
    LAMBDA_TASK_ROOT: fn.taskRoot,
    LAMBDA_RUNTIME_DIR: deps.runtimeDir,
    AWS_LAMBDA_RUNTIME_API: deps.runtimeApi,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: fn.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySizeMb),
    AWS_LAMBDA_LOG_GROUP_NAME: fn.logging?.logGroup ?? `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName((deps.now ?? (() => new Date()))(), fn.functionVersion),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    // Lambda's default, unless the function sets its own zone.
    TZ: own.TZ ?? ':UTC',
    // Lambda's paths first, then the function's own (Lambda keeps a function's PATH and friends after its
    // own): /opt/bin last of Lambda's PATH, the layer library folders after the system ones.
    PATH: join2(base.PATH ?? '/usr/local/bin:/usr/bin:/bin', join(opt, 'bin'), own.PATH),
    LD_LIBRARY_PATH: join2(
      base.LD_LIBRARY_PATH,
      fn.taskRoot,
      join(fn.taskRoot, 'lib'),
      join(opt, 'lib'),
      own.LD_LIBRARY_PATH,
    ),
    PYTHONPATH: join2(fn.compatShim?.pythonPath, ...pythonLayerPaths(opt), base.PYTHONPATH, own.PYTHONPATH),
    NODE_PATH: join2(
      join(opt, 'nodejs', `node${nodeMajor}`, 'node_modules'),
      join(opt, 'nodejs', 'node_modules'),
      fn.taskRoot,
      base.NODE_PATH,
      own.NODE_PATH,
    ),
    // The helper's isBatchJob(): true in any job the runner runs, in Batch or not.
    [RUN_LAMBDA_JOB]: '1',
    // Python reads bytecode but writes none: nothing lands in the (cached, checked) task root, as in
    // Lambda's read-only /var/task. A PYTHONPYCACHEPREFIX would do that too, but recompiles the standard
    // library on every start (+300 ms for a handful of imports here).
    PYTHONDONTWRITEBYTECODE: '1',
  });
  // cirrus-v0: the shim is the handler and calls the real one with the event alone, whatever client serves it.
  if (fn.compatShim) env.RUN_LAMBDA_COMPAT_HANDLER = fn.handler;
  Object.assign(env, logFormatEnv(fn, env));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  credentialsEnv(env, fn);
  // Managed Instances' multi-concurrency: the runner serves one invocation at a time, so clients must not
  // start their concurrent modes (worker threads, processes) as they would under that variable.
  delete env.AWS_LAMBDA_MAX_CONCURRENCY;
  if (deps.runMark) env[RUN_MARK] = deps.runMark;
  return env;
}

/**
 * AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL from the function's LoggingConfig: with JSON, the format and the
 * application log level (INFO unless set); with Text, neither (levels apply to JSON logs only). A function
 * without a known LoggingConfig (local code) keeps what the environment says, so both can be tried locally.
 */
export function logFormatEnv(
  fn: PreparedFunction,
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  if (!fn.logging)
    return {
      AWS_LAMBDA_LOG_FORMAT: env.AWS_LAMBDA_LOG_FORMAT,
      AWS_LAMBDA_LOG_LEVEL: env.AWS_LAMBDA_LOG_LEVEL,
    };
  if (fn.logging.format !== 'JSON')
    return { AWS_LAMBDA_LOG_FORMAT: undefined, AWS_LAMBDA_LOG_LEVEL: undefined };
  return { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: fn.logging.applicationLogLevel ?? 'INFO' };
}
