// Which process serves the invocation (first match wins): a bootstrap, the image's runtime client, or ours.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Env } from '../../lib/env.js';
import { envString } from '../../lib/env.js';
import { RuntimeNotAvailableError } from '../errors.js';
import { ClientKind, clientPath } from './clients.js';
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
}

export interface SelectInput {
  runtime: string;
  taskRoot: string;
  optDir: string;
  env: Env;
  /** The Lambda base images' runtime folder (default /var/runtime). */
  imageRuntimeDir?: string;
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

export async function selectRuntime(input: SelectInput): Promise<RuntimeCommand> {
  // A --runtime flag was checked when parsed; what is left is the function's own configuration (exit 3).
  const family = familyOf(input.runtime);
  if (family === undefined) {
    throw new RuntimeNotAvailableError(
      `the function's configuration names an ${unknownRuntime(input.runtime)}`,
    );
  }
  for (const [dir, where] of [
    [input.taskRoot, 'the task root'],
    [input.optDir, 'the opt dir'],
  ] as const) {
    const bootstrap = join(dir, 'bootstrap');
    if (existsSync(bootstrap)) {
      if (!isExecutable(bootstrap)) throw new RuntimeNotAvailableError(`${bootstrap} is not executable`);
      return { label: `bootstrap in ${where}`, command: bootstrap, args: [], runtimeDir: dir };
    }
  }
  const imageDir = input.imageRuntimeDir ?? '/var/runtime';
  const imageBootstrap = join(imageDir, 'bootstrap');
  if (isExecutable(imageBootstrap) && imageFamily(imageDir, input.env) === family) {
    return { label: "the image's runtime client", command: imageBootstrap, args: [], runtimeDir: imageDir };
  }
  if (family === RuntimeFamily.python) {
    const onPath = findOnPath('python3', input.env);
    if (!onPath) throw notAvailable(input.runtime, 'python3 is not on the PATH');
    const python = resolvePython(onPath, input.taskRoot, input.env);
    const client = await clientPath(ClientKind.python, input.clientDirs);
    return {
      label: "the runner's Python client",
      command: python,
      args: ['-u', client],
      runtimeDir: imageDir,
    };
  }
  if (family === RuntimeFamily.node) {
    const client = await clientPath(ClientKind.node, input.clientDirs);
    return {
      label: "the runner's Node.js client",
      command: process.execPath,
      // The function's Node must not open an inspector at SIGUSR1 either (Node 22.14 and later can be told).
      args: [
        ...(process.allowedNodeEnvironmentFlags.has('--disable-sigusr1') ? ['--disable-sigusr1'] : []),
        client,
      ],
      runtimeDir: imageDir,
    };
  }
  if (family === RuntimeFamily.custom) {
    throw new RuntimeNotAvailableError(
      `runtime ${input.runtime} needs a bootstrap in the function's code or in ${input.optDir}; found none`,
    );
  }
  throw notAvailable(input.runtime, 'the runner serves Python and Node.js only');
}

function notAvailable(runtime: string, why: string): RuntimeNotAvailableError {
  return new RuntimeNotAvailableError(
    `runtime ${runtime} is not available here (${why}); run it in an image based on ${baseImageFor(runtime)}`,
  );
}

/** The family the Lambda base image's own client serves (AWS_EXECUTION_ENV, else the files it ships). */
function imageFamily(dir: string, env: Env): RuntimeFamily | undefined {
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
