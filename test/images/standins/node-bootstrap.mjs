// Stand-in of the Node.js base images' runtime client (/var/runtime/index.mjs): loads _HANDLER the way it does
// (relative to LAMBDA_TASK_ROOT or absolute, no `..`, .js/.mjs/.cjs; same error types) and always calls
// handler(event, context). Only what the image tests need.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// As Lambda's Node.js runtimes (18+) do, an ES module's bare `import` that finds nothing from the handler's folder
// is looked for in the NODE_PATH folders (the layers' /opt/nodejs/node_modules), which ES modules otherwise ignore.
const hook = `import { pathToFileURL } from 'node:url';
let dirs = [];
export function initialize(data) { dirs = data.dirs; }
export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || /^(\\.|\\/|[a-z]+:)/.test(specifier)) throw err;
    for (const dir of dirs) {
      try { return await next(specifier, { ...context, parentURL: pathToFileURL(dir + '/x.mjs').href }); } catch {}
    }
    throw err;
  }
}`;
const dirs = (process.env.NODE_PATH ?? '').split(':').filter((d) => d && existsSync(d));
if (dirs.length > 0)
  register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url, { data: { dirs } });

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

const typed = (name, message) => Object.assign(new Error(message), { name });

async function post(path, body) {
  await fetch(api + path, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
}

function errorBody(err) {
  return JSON.stringify({
    errorType: err?.name ?? 'Error',
    errorMessage: err?.message ?? String(err),
    trace: String(err?.stack ?? '').split('\n'),
  });
}

async function load(root, handler) {
  if (handler.includes('..'))
    throw typed('Runtime.MalformedHandlerName', "'..' is not allowed in the handler name");
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot === -1) throw typed('Runtime.MalformedHandlerName', 'Bad handler');
  const base = resolve(root, handler.slice(0, dot));
  const file = ['.js', '.mjs', '.cjs'].map((e) => base + e).find((f) => existsSync(f));
  if (!file) throw typed('Runtime.ImportModuleError', `Error: Cannot find module '${handler.slice(0, dot)}'`);
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    if (err instanceof SyntaxError) throw typed('Runtime.UserCodeSyntaxError', `${err.name}: ${err.message}`);
    if (err?.code === 'ERR_MODULE_NOT_FOUND')
      throw typed('Runtime.ImportModuleError', `Error: ${err.message}`);
    throw err;
  }
  const path = handler.slice(dot + 1).split('.');
  const fn = path.reduce((o, k) => o?.[k], mod) ?? path.reduce((o, k) => o?.[k], mod.default);
  if (typeof fn !== 'function')
    throw typed('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  return fn;
}

let fn;
try {
  fn = await load(process.env.LAMBDA_TASK_ROOT ?? '/var/task', process.env._HANDLER ?? '');
} catch (err) {
  await post('/init/error', errorBody(err));
  process.exit(1);
}
for (;;) {
  const next = await fetch(`${api}/invocation/next`);
  const id = next.headers.get('lambda-runtime-aws-request-id');
  const deadline = Number(next.headers.get('lambda-runtime-deadline-ms'));
  const context = {
    awsRequestId: id,
    invokedFunctionArn: next.headers.get('lambda-runtime-invoked-function-arn'),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
  const event = JSON.parse(await next.text());
  try {
    const result = await fn(event, context);
    await post(`/invocation/${id}/response`, JSON.stringify(result));
  } catch (err) {
    console.error(err);
    await post(`/invocation/${id}/error`, errorBody(err));
  }
}
