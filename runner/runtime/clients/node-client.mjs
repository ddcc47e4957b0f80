// run-lambda's Node.js runtime client: loads the handler as Lambda does and serves invocations over the Runtime API.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// ES modules ignore NODE_PATH, but Lambda's Node.js runtimes (18+) let `import` find packages in layers
// (/opt/nodejs/node_modules…). A resolve hook gives bare specifiers that fall through the same NODE_PATH folders.
const layerResolver = `
import { pathToFileURL } from 'node:url';
let dirs = [];
export function initialize(data) { dirs = data.dirs; }
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || /^(\\.|\\/|[a-z]+:)/.test(specifier)) throw err;
    for (const dir of dirs) {
      try {
        return await next(specifier, { ...context, parentURL: pathToFileURL(dir + '/__layer__.mjs').href });
      } catch {}
    }
    throw err;
  }
}`;
const nodePath = (process.env.NODE_PATH ?? '').split(':').filter((d) => d && existsSync(d));
if (nodePath.length > 0 && typeof register === 'function') {
  register(`data:text/javascript,${encodeURIComponent(layerResolver)}`, import.meta.url, {
    data: { dirs: nodePath },
  });
}

const [host, port] = (process.env.AWS_LAMBDA_RUNTIME_API ?? '').split(':');
const PREFIX = '/2018-06-01/runtime';

function call(method, path, body, headers = {}) {
  return new Promise((ok, fail) => {
    const req = request({ host, port, method, path: PREFIX + path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

function post(path, text, headers) {
  const body = Buffer.from(text, 'utf8');
  return call('POST', path, body, {
    'Content-Type': 'application/json',
    'Content-Length': body.length,
    ...headers,
  }).then((r) => {
    if (r.status !== 202) process.stderr.write(`run-lambda node client: POST ${path} answered ${r.status}\n`);
  });
}

function errorBody(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({
    errorType: e.name || 'Error',
    errorMessage: e.message,
    trace: String(e.stack ?? '').split('\n'),
  });
}

function typed(name, message, cause) {
  const e = new Error(message, { cause });
  e.name = name;
  if (cause?.stack) e.stack = `${name}: ${message}\n${cause.stack}`;
  return e;
}

/** `dir/file.fn[.sub]` → the function, trying .js, .mjs, .cjs as Lambda does. */
async function loadHandler(taskRoot, handler) {
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot === -1) throw typed('Runtime.MalformedHandlerName', `Bad handler ${handler}`);
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
  if (typeof fn !== 'function') {
    throw typed('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  }
  return fn;
}

function makeContext(headers) {
  const env = process.env;
  const deadline = Number(headers['lambda-runtime-deadline-ms'] ?? 0);
  return {
    callbackWaitsForEmptyEventLoop: true,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

function invoke(fn, event, context, compat) {
  if (compat) return Promise.resolve().then(() => fn(event));
  // Callback-style handlers take three parameters; the first settlement wins.
  if (fn.length >= 3) {
    return new Promise((ok, fail) => {
      const cb = (err, result) => (err ? fail(err) : ok(result));
      Promise.resolve()
        .then(() => fn(event, context, cb))
        .then((r) => r !== undefined && ok(r), fail);
    });
  }
  return Promise.resolve().then(() => fn(event, context));
}

async function serve(fn, compat) {
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    const trace = next.headers['lambda-runtime-trace-id'];
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    let event;
    try {
      event = JSON.parse(next.body.toString('utf8'));
    } catch (err) {
      await post(
        `/invocation/${id}/error`,
        errorBody(typed('Runtime.UnmarshalError', `Unable to unmarshal input: ${err.message}`)),
      );
      continue;
    }
    next.body = undefined;
    let result;
    try {
      result = await invoke(fn, event, makeContext(next.headers), compat);
    } catch (err) {
      console.error('Invoke Error', err);
      await post(`/invocation/${id}/error`, errorBody(err));
      continue;
    }
    let text;
    try {
      text = JSON.stringify(result === undefined ? null : result);
    } catch (err) {
      const e = typed('Runtime.MarshalError', `Unable to stringify response body: ${err.message}`);
      console.error(e.stack);
      await post(`/invocation/${id}/error`, errorBody(e));
      continue;
    }
    await post(`/invocation/${id}/response`, text);
  }
}

async function main() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  let fn;
  try {
    fn = await loadHandler(taskRoot, process.env._HANDLER ?? '');
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(e.stack);
    await post('/init/error', errorBody(e), { 'Lambda-Runtime-Function-Error-Type': e.name });
    process.exit(1);
  }
  await serve(fn, process.env.RUN_LAMBDA_COMPAT === 'cirrus-v0');
}

await main();
