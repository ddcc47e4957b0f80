// run-lambda's cirrus-v0 shim for Node.js: the runtime's client (the image's, or the runner's own) loads this
// module as the handler (by absolute path); it loads the function's real handler (RUN_LAMBDA_COMPAT_HANDLER) as
// Lambda's client would and calls it with the event alone. Failures carry the client's error names
// (Runtime.ImportModuleError…) and name the real handler.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const real = process.env.RUN_LAMBDA_COMPAT_HANDLER ?? '';
process.env._HANDLER = real;

function typed(name, message, cause) {
  const e = new Error(message, cause === undefined ? undefined : { cause });
  e.name = name;
  return e;
}

async function load(root, spec) {
  if (spec.includes('..'))
    throw typed('Runtime.MalformedHandlerName', "'..' is not allowed in the handler name");
  const slash = spec.lastIndexOf('/');
  const dot = spec.indexOf('.', slash + 1);
  if (dot === -1) throw typed('Runtime.MalformedHandlerName', `Bad handler ${spec}`);
  const base = resolve(root, spec.slice(0, dot));
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) throw typed('Runtime.ImportModuleError', `Error: Cannot find module '${spec.slice(0, dot)}'`);
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    if (err instanceof SyntaxError)
      throw typed('Runtime.UserCodeSyntaxError', `${err.name}: ${err.message}`, err);
    if (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') {
      throw typed('Runtime.ImportModuleError', `Error: ${err.message}`, err);
    }
    throw err;
  }
  const path = spec.slice(dot + 1).split('.');
  const pick = (o) => path.reduce((v, k) => (v == null ? undefined : v[k]), o);
  const fn = pick(mod) ?? pick(mod.default);
  if (typeof fn !== 'function')
    throw typed('Runtime.HandlerNotFound', `${spec} is undefined or not exported`);
  return fn;
}

const fn = await load(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), real);

export async function handler(event) {
  return fn(event);
}
