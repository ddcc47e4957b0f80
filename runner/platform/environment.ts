// The execution environment around the runtime the runner serves, as Lambda's lifecycle has it: the external extensions
// of the opt dir (started before the runtime, which starts once they registered), the phases of each invocation
// (phases.ts), and the end: the last invocation's phase, then SHUTDOWN to the extensions (runtime first, extensions
// after: Extensions API, Shutdown phase and failure handling).
import { spawn as nodeSpawn } from 'node:child_process';
import type { Env } from '../../lib/env.js';
import { extensionEnv, extensionMark } from '../extensions/env.js';
import { ShutdownReason } from '../extensions/events.js';
import { type ExtensionHost, type ExtensionSummary, startExtensions } from '../extensions/host.js';
import { findExtensions, launchExtension } from '../extensions/launch.js';
import type { PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import { RUN_MARK } from '../runtime/env.js';
import type { RuntimeHost } from '../runtime/host.js';
import { type SpawnFn, startKeeper } from '../runtime/process.js';
import type { RuntimeApi } from '../runtime-api/server.js';
import { noTelemetry, type TelemetrySink } from '../telemetry/facts.js';
import { type Phases, platformPhases } from './phases.js';
import type { LogLineFormat } from './report-lines.js';

export interface EnvironmentDeps {
  fn: PreparedFunction;
  api: RuntimeApi;
  host: RuntimeHost;
  /** The runtime's environment, for a runtime the runner starts (the extensions' is made from it); none otherwise. */
  runtimeEnv?: Record<string, string>;
  runMark: string;
  extensionTimeoutSeconds: number;
  env: Env;
  log: Logger;
  spawn?: SpawnFn;
  telemetry?: TelemetrySink;
  /** Where START/END/REPORT and the extensions' output go (the runner's stderr). */
  write?: (chunk: string | Buffer) => void;
}

export interface ExecutionEnvironment {
  phases: Phases;
  /** The extensions as the run record lists them. */
  extensions(): ExtensionSummary[];
  /**
   * The last invocation's phase (not waited for after a stop), the runtime ended (`endRuntime`), then SHUTDOWN and the
   * end of the extensions.
   */
  shutdown(stopped: boolean, endRuntime: () => void): Promise<void>;
}

/** The function's log format for the platform's lines: its LoggingConfig, else (local code) the runner's environment. */
export function logLineFormat(fn: PreparedFunction, env: Env): LogLineFormat {
  const json = fn.logging ? fn.logging.format === 'JSON' : env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
  return { format: json ? 'JSON' : 'Text', systemLogLevel: fn.logging?.systemLogLevel ?? 'INFO' };
}

export async function openEnvironment(deps: EnvironmentDeps): Promise<ExecutionEnvironment> {
  const { fn, api, log } = deps;
  const write = deps.write ?? ((chunk: string | Buffer) => process.stderr.write(chunk));
  const telemetry = deps.telemetry ?? noTelemetry;
  api.extensions.describeFunction({
    functionName: fn.functionName,
    functionVersion: fn.functionVersion,
    handler: fn.handler,
    accountId: fn.invokedFunctionArn.split(':')[4] ?? '',
  });
  const init = { clock: performance.now(), at: Date.now() };
  const extensions = deps.runtimeEnv ? await startTheExtensions(deps, deps.runtimeEnv, write) : undefined;
  const phases = platformPhases({
    version: fn.functionVersion,
    memorySizeMb: fn.memorySizeMb,
    format: logLineFormat(fn, deps.env),
    ...(extensions ? { extensions } : {}),
    telemetry,
    write: (text) => {
      if (text) write(text);
    },
    runtimePid: () => deps.host.pid(),
  });
  phases.initStarted(init);
  return {
    phases,
    extensions: () => extensions?.summary() ?? [],
    async shutdown(stopped, endRuntime) {
      if (!stopped) await phases.drain();
      endRuntime();
      if (!extensions) return;
      const reason = stopped ? ShutdownReason.spindown : phases.shutdownReason();
      await extensions.shutdown(reason);
      log.debug('the extensions are ended');
    },
  };
}

/** The opt dir's extensions started, and registered (the runtime starts after them); none when there are none. */
async function startTheExtensions(
  deps: EnvironmentDeps,
  runtimeEnv: Record<string, string>,
  write: (chunk: Buffer) => void,
): Promise<ExtensionHost | undefined> {
  const found = await findExtensions(deps.fn.optDir);
  if (found.length === 0) return undefined;
  const spawn = deps.spawn ?? nodeSpawn;
  const env = extensionEnv(runtimeEnv, deps.runMark);
  const mark = [RUN_MARK, extensionMark(deps.runMark)] as const;
  const host = await startExtensions({
    registry: deps.api.extensions,
    found,
    launch: (ext) =>
      launchExtension(ext, { spawn, env, cwd: deps.fn.taskRoot, output: (_name, chunk) => write(chunk) }),
    log: deps.log,
    extensionTimeoutMs: deps.extensionTimeoutSeconds * 1000,
    mark,
    keep: (pgid) => startKeeper(spawn, pgid, mark, env.PATH),
  });
  deps.log.info(`extensions: ${host.names.join(', ')}`);
  try {
    await host.registered();
  } catch (err) {
    await host.shutdown(ShutdownReason.failure);
    throw err;
  }
  return host;
}
