// The execution environment around the runtime the runner serves, as Lambda's lifecycle has it: the external extensions
// of the opt dir (started before the runtime, which starts once they registered), the phases of each invocation
// (phases.ts), and the end: the last invocation's phase, then SHUTDOWN to the extensions (runtime first, extensions
// after: Extensions API, Shutdown phase and failure handling).
import { spawn as nodeSpawn } from 'node:child_process';
import type { Env } from '../../lib/env.js';
import { extensionEnv, extensionMark } from '../extensions/env.js';
import { SHUTDOWN_LIMIT_MS, ShutdownReason } from '../extensions/events.js';
import { type ExtensionHost, startExtensions } from '../extensions/host.js';
import { launchExtension } from '../extensions/launch.js';
import type { PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import { RUN_MARK } from '../runtime/env.js';
import type { RuntimeHost } from '../runtime/host.js';
import { startKeeper } from '../runtime/process.js';
import type { SpawnFn } from '../runtime/process-group.js';
import type { RuntimeApi } from '../runtime-api/server.js';
import type { LogLine } from '../telemetry/facts.js';
import { type LogTap, logTap } from '../telemetry/log-tap.js';
import { type Phases, platformPhases } from './phases.js';
import type { LogLineFormat } from './report-lines.js';
import { ensureSandboxName } from './sandbox-host.js';

export interface EnvironmentDeps {
  fn: PreparedFunction;
  api: RuntimeApi;
  host: RuntimeHost;
  /** The runtime's environment, for a runtime the runner starts (the extensions' is made from it); none otherwise. */
  runtimeEnv?: Record<string, string>;
  runMark: string;
  /** The executables of the opt dir's extensions/ folder (extensions/launch.ts findExtensions). */
  found: readonly { name: string; path: string }[];
  extensionTimeoutSeconds: number;
  env: Env;
  log: Logger;
  spawn?: SpawnFn;
  /** Where START/END/REPORT and the extensions' output go (the runner's stderr). */
  write?: (chunk: string | Buffer) => void;
}

const stderr = (chunk: string | Buffer) => process.stderr.write(chunk);

/** A tap that passes output on to `write` and hands its lines to telemetry as `type` events (telemetry/log-tap.ts). */
export function outputTap(
  telemetry: { log(line: LogLine): void },
  type: LogLine['type'],
  write: (chunk: Buffer) => void = stderr,
): LogTap {
  return logTap(write, (line) => telemetry.log({ type, at: Date.now(), line }));
}

export interface ExecutionEnvironment {
  phases: Phases;
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
  const write = deps.write ?? stderr;
  const telemetry = api.telemetry;
  const format = logLineFormat(fn, deps.env);
  telemetry.configure({ jsonLogs: format.format === 'JSON' });
  api.extensions.describeFunction({
    functionName: fn.functionName,
    functionVersion: fn.functionVersion,
    handler: fn.handler,
    accountId: fn.invokedFunctionArn.split(':')[4] ?? '',
  });
  let extensions: ExtensionHost | undefined;
  const phases = platformPhases({
    version: fn.functionVersion,
    memorySizeMb: fn.memorySizeMb,
    format,
    extensions: () => extensions,
    telemetry,
    write: (text) => {
      if (text) write(text);
    },
    runtimePid: () => deps.host.pid(),
  });
  // Init begins with the extensions, which start before the runtime.
  phases.initStarted();
  if (deps.runtimeEnv && deps.found.length > 0) {
    await ensureSandboxName(deps.env, log);
    extensions = await startTheExtensions(deps, deps.runtimeEnv, write);
  }
  return {
    phases,
    async shutdown(stopped, endRuntime) {
      if (!stopped) await phases.drain();
      endRuntime();
      if (!extensions) return;
      const reason = stopped ? ShutdownReason.spindown : phases.shutdownReason();
      // The last flush before SHUTDOWN (within its 2 s, so that the extensions still have time to send it on).
      await extensions.shutdown(reason, () => telemetry.flush(SHUTDOWN_LIMIT_MS / 2));
      log.debug('the extensions are ended');
    },
  };
}

/** The opt dir's extensions started, and registered (the runtime starts after them). */
async function startTheExtensions(
  deps: EnvironmentDeps,
  runtimeEnv: Record<string, string>,
  write: (chunk: Buffer) => void,
): Promise<ExtensionHost> {
  const { found } = deps;
  const spawn = deps.spawn ?? nodeSpawn;
  const env = extensionEnv(runtimeEnv, deps.runMark);
  const mark = [RUN_MARK, extensionMark(deps.runMark)] as const;
  const host = await startExtensions({
    registry: deps.api.extensions,
    found,
    launch: (ext) =>
      launchExtension(ext, {
        spawn,
        env,
        cwd: deps.fn.taskRoot,
        tap: () => outputTap(deps.api.telemetry, 'extension', write),
      }),
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
