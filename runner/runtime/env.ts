// Lambda's environment for the runtime process: the container's env, the function's variables, Lambda's reserved ones.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Env } from '../../lib/env.js';
import { envString } from '../../lib/env.js';
import type { PreparedFunction } from '../function.js';
import type { Compat } from '../options.js';

export interface RuntimeEnvInput {
  fn: PreparedFunction;
  /** The runner's own environment: passed through (container credentials, AWS_BATCH_JOB_ID, HOME…). */
  base: Env;
  runtimeApi: string;
  runtimeDir: string;
  compat?: Compat;
  now?: () => Date;
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

export function runtimeEnv(input: RuntimeEnvInput): Record<string, string> {
  const { fn, base } = input;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    // The runner's own options are not the function's business.
    if (v !== undefined && !k.startsWith('RUN_LAMBDA_')) env[k] = v;
  }
  const region =
    fn.region ?? envString(base, 'AWS_REGION') ?? envString(base, 'AWS_DEFAULT_REGION') ?? 'us-east-1';
  const opt = fn.optDir;
  const nodeMajor = process.versions.node.split('.')[0];
  // The runner's options are never the function's either: its own RUN_LAMBDA_* variables do not switch compat on.
  const own = Object.entries(fn.environment).filter(([k]) => !k.startsWith('RUN_LAMBDA_'));
  Object.assign(env, { LANG: env.LANG ?? 'en_US.UTF-8' }, Object.fromEntries(own), {
    _HANDLER: fn.compatShim?.handler ?? fn.handler,
    LAMBDA_TASK_ROOT: fn.taskRoot,
    LAMBDA_RUNTIME_DIR: input.runtimeDir,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: fn.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySizeMb),
    AWS_LAMBDA_LOG_GROUP_NAME: fn.logging?.logGroup ?? `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName((input.now ?? (() => new Date()))(), fn.functionVersion),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    TZ: ':UTC',
    // Lambda puts /opt/bin last on the PATH and the layer library folders after the system ones.
    PATH: join2(base.PATH ?? '/usr/local/bin:/usr/bin:/bin', join(opt, 'bin')),
    LD_LIBRARY_PATH: join2(base.LD_LIBRARY_PATH, fn.taskRoot, join(fn.taskRoot, 'lib'), join(opt, 'lib')),
    PYTHONPATH: join2(fn.compatShim?.pythonPath, ...pythonLayerPaths(opt), base.PYTHONPATH),
    NODE_PATH: join2(
      join(opt, 'nodejs', `node${nodeMajor}`, 'node_modules'),
      join(opt, 'nodejs', 'node_modules'),
      fn.taskRoot,
      base.NODE_PATH,
    ),
  });
  // cirrus-v0: the shim is the handler and calls the real one with the event alone, whatever client serves it.
  if (fn.compatShim) env.RUN_LAMBDA_COMPAT_HANDLER = fn.handler;
  Object.assign(env, logFormatEnv(fn, env));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  // Managed Instances' multi-concurrency: the runner serves one invocation at a time, so clients must not
  // start their concurrent modes (worker threads, processes) as they would under that variable.
  delete env.AWS_LAMBDA_MAX_CONCURRENCY;
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
