// Local mode: a folder or .zip of function code becomes a PreparedFunction (runtime and handler found from the files).
import { existsSync, statSync } from 'node:fs';
import { homedir, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { FALLBACK_REGION, regionFromEnv } from '../lib/aws-config.js';
import type { Env } from '../lib/env.js';
import { envString } from '../lib/env.js';
import { functionArn } from '../lib/lambda-arn.js';
import { FunctionNotFoundError, FunctionPrepareError } from './errors.js';
import type { PreparedFunction } from './function.js';
import type { Logger } from './log.js';
import { recoverOverlay } from './opt/overlay.js';
import type { Compat } from './runtime/compat/shim.js';
import { runtimeFamily } from './runtime/families.js';

/** Handlers tried in order when none is given (Cirrus tasks, feeders, the console's default, Node's default). */
export const defaultHandlers = [
  'task.handler',
  'feeder.handler',
  'lambda_function.lambda_handler',
  'index.handler',
] as const;
/** cirrusgeo/run-lambda 0.2 looked for these only. */
export const compatHandlers = defaultHandlers.slice(0, 3);

/** A `<function>` argument is local when it is an existing path or looks like one; otherwise it is a Lambda name/ARN. */
export function isLocalRef(ref: string, cwd: string): boolean {
  return (
    /^(\/|\.\/|\.\.\/|~)/.test(ref) ||
    ref === '.' ||
    ref === '..' ||
    ref.endsWith('.zip') ||
    existsSync(resolve(cwd, ref))
  );
}

export interface LocalFunctionDeps {
  handler?: string;
  runtime?: string;
  compat?: Compat;
  optDir: string;
  /** Scratch folder (removed at exit) where a .zip is extracted. */
  workDir: string;
  cwd: string;
  env: Env;
  log: Logger;
}

/** Local code belongs to no account: twelve zeros stand in, so the ARN a handler sees has Lambda's shape. */
const LOCAL_ACCOUNT = '000000000000';
const pythonRuntime = 'python3.12';
const nodeRuntime = () => `nodejs${process.versions.node.split('.')[0]}.x`;

/** The runtime a handler's module file implies, if the module is in the task root. */
export function runtimeOfHandler(taskRoot: string, handler: string): string | undefined {
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot === -1) return undefined;
  const mod = join(taskRoot, handler.slice(0, dot));
  if (['.js', '.mjs', '.cjs'].some((ext) => existsSync(mod + ext))) return nodeRuntime();
  const pyMod = join(taskRoot, handler.slice(0, handler.lastIndexOf('.')));
  if (existsSync(`${pyMod}.py`) || existsSync(join(pyMod, '__init__.py'))) return pythonRuntime;
  return undefined;
}

export async function prepareLocalFunction(ref: string, deps: LocalFunctionDeps): Promise<PreparedFunction> {
  const home = envString(deps.env, 'HOME') ?? homedir();
  const path = resolve(deps.cwd, ref.startsWith('~') ? home + ref.slice(1) : ref);
  const s = existsSync(path) ? statSync(path) : undefined;
  if (!s) throw new FunctionNotFoundError(`no function code at ${path}`);
  let taskRoot = path;
  if (s.isFile()) {
    if (!path.endsWith('.zip')) throw new FunctionPrepareError(`${path} is neither a folder nor a .zip`);
    taskRoot = join(deps.workDir, 'task');
    // Loaded only for a zip: a folder's run never evaluates the zip reader (yauzl) or loads zlib.
    const { extractZip } = await import('./archive/extract.js');
    const { entries, bytes } = await deps.log.step('extract the code', () => extractZip(path, taskRoot));
    deps.log.debug(`extracted ${entries} entries (${bytes} bytes) to ${taskRoot}`);
  } else if (!s.isDirectory()) {
    throw new FunctionPrepareError(`${path} is neither a folder nor a .zip`);
  }
  // The opt dir is used as it is; only what a killed run of a deployed function left there is taken off.
  await recoverOverlay(deps.optDir, { warn: (m) => deps.log.warn(m) });
  const hasBootstrap = existsSync(join(taskRoot, 'bootstrap'));
  let handler = deps.handler;
  let runtime = deps.runtime;
  if (runtime) runtimeFamily(runtime); // refuse an unknown runtime before anything starts
  if (!handler) {
    const candidates = deps.compat ? compatHandlers : defaultHandlers;
    handler = candidates.find((h) => runtimeOfHandler(taskRoot, h));
    if (!handler && !hasBootstrap) {
      throw new FunctionPrepareError(
        `no handler found in ${taskRoot} (tried ${candidates.join(', ')}); pass --handler`,
      );
    }
    handler ??= 'handler';
  }
  runtime ??= hasBootstrap ? 'provided.al2023' : runtimeOfHandler(taskRoot, handler);
  if (!runtime) {
    throw new FunctionPrepareError(
      `handler ${handler} not found in ${taskRoot} (no module file for it); check --handler or pass --runtime`,
    );
  }
  const name =
    basename(path)
      .replace(/\.zip$/, '')
      .replace(/[^A-Za-z0-9_-]/g, '-') || 'function';
  const region = regionFromEnv(deps.env) ?? FALLBACK_REGION;
  return {
    taskRoot,
    optDir: deps.optDir,
    handler,
    runtime,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn({ partition: 'aws', region, account: LOCAL_ACCOUNT }, name),
    // A local run has the machine's memory (capped at Lambda's 10 GB maximum).
    memorySizeMb: Math.min(Math.floor(totalmem() / 1048576), 10240),
    environment: {},
    region,
  };
}
