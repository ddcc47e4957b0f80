// What an extension's process gets: the function's environment, less the variables that belong to the runtime process
// alone ("Environment variables", Extensions API document: Lambda withholds these ten from extensions), and the run's
// mark of its own, so that ending the runtime between two items never ends the extensions.
import { RUN_MARK } from '../runtime/env.js';

/** The runtime's variables Lambda does not give extensions (Extensions API, Permissions and configuration). */
export const WITHHELD_FROM_EXTENSIONS = [
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_XRAY_CONTEXT_MISSING',
  'AWS_XRAY_DAEMON_ADDRESS',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
  '_AWS_XRAY_DAEMON_ADDRESS',
  '_AWS_XRAY_DAEMON_PORT',
  '_HANDLER',
] as const;

/** The runner's own variable for cirrus-v0's shim: the runtime's business only. */
const RUNNER_RUNTIME_ONLY = ['RUN_LAMBDA_COMPAT_HANDLER'];

/** The value of RUN_MARK the extensions' processes carry, from the runtime's. */
export function extensionMark(runMark: string): string {
  return `${runMark}.extensions`;
}

/** The extensions' environment from the runtime's (which holds AWS_LAMBDA_RUNTIME_API already). */
export function extensionEnv(
  runtimeEnv: Readonly<Record<string, string>>,
  runMark: string,
): Record<string, string> {
  const env = { ...runtimeEnv };
  for (const k of [...WITHHELD_FROM_EXTENSIONS, ...RUNNER_RUNTIME_ONLY]) delete env[k];
  env[RUN_MARK] = extensionMark(runMark);
  return env;
}
