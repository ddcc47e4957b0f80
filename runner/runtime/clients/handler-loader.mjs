// Loads a Node.js function's handler as Lambda's own Node.js client does (aws-lambda-ric): `dir/file.fn[.sub]`, the
// file tried as .js, .mjs and .cjs under the task root, each failure under Lambda's error type and message. The
// runner's Node.js client (node-client.mjs) and the cirrus-v0 shim (../compat/run-lambda-compat.mjs) both import it;
// the build bundles it into each, since each is written out and run as a file of its own (scripts/build/runner.mjs).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** An error of Lambda's type `name` (`Runtime.ImportModuleError`…), with its cause's stack under the message. */
export function typed(name, message, cause) {
  const e = new Error(message, { cause });
  e.name = name;
  if (cause?.stack) e.stack = `${name}: ${message}\n${cause.stack}`;
  return e;
}

/** `dir/file.fn[.sub]` under `taskRoot` → the function it names; Lambda's error when there is none. */
export async function loadHandler(taskRoot, handler) {
  if (handler.includes('..')) {
    throw typed(
      'Runtime.MalformedHandlerName',
      `'${handler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot === -1) throw typed('Runtime.MalformedHandlerName', 'Bad handler');
  const modulePath = resolve(taskRoot, handler.slice(0, dot));
  const fnPath = handler.slice(dot + 1).split('.');
  const file = ['.js', '.mjs', '.cjs'].map((ext) => modulePath + ext).find((f) => existsSync(f));
  if (!file) throw typed('Runtime.ImportModuleError', `Error: Cannot find module '${handler.slice(0, dot)}'`);
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
  const pick = (root) => fnPath.reduce((o, k) => (o == null ? undefined : o[k]), root);
  const fn = pick(mod) ?? pick(mod.default);
  if (fn === undefined || fn === null) {
    throw typed('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  }
  if (typeof fn !== 'function') throw typed('Runtime.HandlerNotFound', `${handler} is not a function`);
  return fn;
}
