// Which runtime serves a function: with --external-runtime, the one that connects from elsewhere; otherwise the process
// the runner starts, the first match of: a bootstrap (the task root's, then the opt dir's), the image's official
// runtime client when it is of the function's runtime family, the runner's own clients for Python and Node.js.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Env } from '../../lib/env.js';
import { envString } from '../../lib/env.js';
import { RuntimeNotAvailableError } from '../errors.js';
import type { PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import { ClientKind, clientPath } from './clients/client-path.js';
import { baseImageFor, familyOf, RuntimeFamily, unknownRuntime } from './families.js';
import { resolvePython } from './python.js';

/** Which runtime is served: one the runner starts, or one started elsewhere that connects to `host:port`. */
export type RuntimeSource =
  | { kind: 'spawned'; command: RuntimeCommand }
  | { kind: 'external'; host: string; port: number; initTimeoutSeconds: number };

export interface RuntimeCommand {
  /** Human name for logs: "bootstrap in the task root", "the image's runtime client", … */
  label: string;
  command: string;
  args: string[];
  /** LAMBDA_RUNTIME_DIR for this runtime. */
  runtimeDir: string;
  /**
   * One of the runner's own clients, which the runner starts through AWS_LAMBDA_EXEC_WRAPPER (runtime/exec-wrapper.ts);
   * a bootstrap, the base images' official one included, applies the wrapper itself.
   */
  ownClient?: boolean;
}

export interface ChooseDeps {
  /** --external-runtime: where the runtime started elsewhere connects, and how long it may take */
  external?: { host: string; port: number; initTimeoutSeconds: number };
  env: Env;
  /** Where the Lambda base images keep their official runtime client (default /var/runtime). */
  officialClientDir?: string;
  /** Folders to write the runner's clients to, in order of preference. */
  clientDirs: readonly string[];
  log: Logger;
}

/** What serves `fn` (prepared, the run's options applied). */
export async function chooseRuntime(fn: PreparedFunction, deps: ChooseDeps): Promise<RuntimeSource> {
  const { log, external } = deps;
  if (external) {
    log.info(`${fn.functionName}: served to the runtime that connects to ${external.host}:${external.port}`);
    return { kind: 'external', ...external };
  }
  const command = await log.step('select the runtime', () =>
    runtimeCommand({
      runtime: fn.runtime,
      taskRoot: fn.taskRoot,
      optDir: fn.optDir,
      env: deps.env,
      officialClientDir: deps.officialClientDir,
      clientDirs: deps.clientDirs,
    }),
  );
  log.info(`${fn.functionName}: ${fn.handler} on ${fn.runtime}, served by ${command.label}`);
  return { kind: 'spawned', command };
}

export interface CommandDeps {
  runtime: string;
  taskRoot: string;
  optDir: string;
  env: Env;
  /** Where the Lambda base images keep their official runtime client (default /var/runtime). */
  officialClientDir?: string;
  /** Folders to write our clients to, in order of preference. */
  clientDirs: readonly string[];
}

const isExecutable = (p: string) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The process that serves a function of `runtime` here: the first match (above); exit 3 when there is none. */
export async function runtimeCommand(deps: CommandDeps): Promise<RuntimeCommand> {
  // A --runtime flag was checked when parsed; what is left is the function's own configuration (exit 3).
  const family = familyOf(deps.runtime);
  if (family === undefined) {
    throw new RuntimeNotAvailableError(
      `the function's configuration names an ${unknownRuntime(deps.runtime)}`,
    );
  }
  for (const [dir, where] of [
    [deps.taskRoot, 'the task root'],
    [deps.optDir, 'the opt dir'],
  ] as const) {
    const bootstrap = join(dir, 'bootstrap');
    if (existsSync(bootstrap)) {
      if (!isExecutable(bootstrap)) throw new RuntimeNotAvailableError(`${bootstrap} is not executable`);
      return { label: `bootstrap in ${where}`, command: bootstrap, args: [], runtimeDir: dir };
    }
  }
  const officialDir = deps.officialClientDir ?? '/var/runtime';
  const officialBootstrap = join(officialDir, 'bootstrap');
  if (isExecutable(officialBootstrap) && officialClientFamily(officialDir, deps.env) === family) {
    return {
      label: "the image's runtime client",
      command: officialBootstrap,
      args: [],
      runtimeDir: officialDir,
    };
  }
  if (family === RuntimeFamily.python) {
    const onPath = findOnPath('python3', deps.env);
    if (!onPath) throw notAvailable(deps.runtime, 'python3 is not on the PATH');
    const python = resolvePython(onPath, deps.taskRoot, deps.env);
    const client = await clientPath(ClientKind.python, deps.clientDirs);
    return {
      label: "the runner's Python client",
      command: python,
      args: ['-u', client],
      runtimeDir: officialDir,
      ownClient: true,
    };
  }
  if (family === RuntimeFamily.node) {
    const client = await clientPath(ClientKind.node, deps.clientDirs);
    return {
      label: "the runner's Node.js client",
      command: process.execPath,
      // The function's Node must not open an inspector at SIGUSR1 either (Node 22.14 and later can be told).
      args: [
        ...(process.allowedNodeEnvironmentFlags.has('--disable-sigusr1') ? ['--disable-sigusr1'] : []),
        client,
      ],
      runtimeDir: officialDir,
      ownClient: true,
    };
  }
  if (family === RuntimeFamily.custom) {
    throw new RuntimeNotAvailableError(
      `runtime ${deps.runtime} needs a bootstrap in the function's code or in ${deps.optDir}; found none`,
    );
  }
  throw notAvailable(deps.runtime, 'the runner serves Python and Node.js only');
}

function notAvailable(runtime: string, why: string): RuntimeNotAvailableError {
  return new RuntimeNotAvailableError(
    `runtime ${runtime} is not available here (${why}); run it in an image based on ${baseImageFor(runtime)}`,
  );
}

/** The family the Lambda base image's own client serves (AWS_EXECUTION_ENV, else the files it ships). */
function officialClientFamily(dir: string, env: Env): RuntimeFamily | undefined {
  const exec = envString(env, 'AWS_EXECUTION_ENV');
  const m = exec ? /^AWS_Lambda_(.+)$/.exec(exec) : null;
  if (m?.[1]) {
    const family = familyOf(m[1]);
    if (family) return family;
  }
  if (existsSync(join(dir, 'bootstrap.py')) || existsSync(join(dir, 'awslambdaric')))
    return RuntimeFamily.python;
  if (existsSync(join(dir, 'index.mjs')) || existsSync(join(dir, 'ric.js'))) return RuntimeFamily.node;
  try {
    if (/python/.test(readFileSync(join(dir, 'bootstrap'), 'utf8').slice(0, 2000)))
      return RuntimeFamily.python;
  } catch {
    // unreadable: unknown family
  }
  return undefined;
}

export function findOnPath(name: string, env: Env): string | undefined {
  for (const dir of (envString(env, 'PATH') ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
