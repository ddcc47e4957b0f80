// run-lambda's Node.js runtime client: loads the handler as Lambda does and serves invocations over the Runtime API.
// Behaviour follows Lambda's own Node.js client (aws-lambda-ric): its console format, error types and messages,
// awslambda.streamifyResponse / HttpResponseStream, and no callback-style handlers from nodejs24.x on.
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { register } from 'node:module';
import { format } from 'node:util';
import { loadHandler, typed } from './handler-loader.mjs';

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

const api = process.env.AWS_LAMBDA_RUNTIME_API ?? '';
const host = api.slice(0, api.lastIndexOf(':')).replace(/^\[|\]$/g, '');
const port = api.slice(api.lastIndexOf(':') + 1);
const PREFIX = '/2018-06-01/runtime';
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const nodeMajor = Number(/^AWS_Lambda_nodejs(\d+)/.exec(process.env.AWS_EXECUTION_ENV ?? '')?.[1] ?? 0);

// --- the function's log: console.* as Lambda's client writes it (text or JSON, filtered by level) -------------

const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
const jsonLogs = (process.env.AWS_LAMBDA_LOG_FORMAT ?? '').toUpperCase() === 'JSON';
const minLevel = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL ?? '').toUpperCase()] ?? LEVELS.TRACE;
let currentRequestId;
let currentTenantId;

function errorFields(err) {
  return {
    errorType: err?.constructor?.name ?? 'UnknownError',
    errorMessage: err.message,
    stackTrace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
  };
}

function logLine(level, message, params) {
  const timestamp = new Date().toISOString();
  const requestId = currentRequestId ?? '-';
  if (!jsonLogs) return [timestamp, requestId, level, format(message, ...params)].join('\t');
  const line = { timestamp, level, requestId, ...(currentTenantId ? { tenantId: currentTenantId } : {}) };
  if (params.length === 0) {
    line.message = message;
    try {
      return JSON.stringify(line, (_k, v) => (v instanceof Error ? { ...errorFields(v), ...v } : v));
    } catch {
      line.message = format(message);
      return JSON.stringify(line);
    }
  }
  line.message = format(message, ...params);
  const err = params.find((p) => p instanceof Error);
  return JSON.stringify(err ? { ...line, ...errorFields(err) } : line);
}

function patchConsole() {
  const make = (level) =>
    LEVELS[level] < minLevel
      ? () => {}
      : (message, ...params) => process.stdout.write(`${logLine(level, message, params)}\n`);
  console.trace = make('TRACE');
  console.debug = make('DEBUG');
  console.info = make('INFO');
  console.warn = make('WARN');
  console.error = make('ERROR');
  console.fatal = make('FATAL');
  console.log = console.info;
}

// --- Runtime API calls ----------------------------------------------------------------------------------------

function call(method, path, body, headers = {}) {
  return new Promise((ok, fail) => {
    const req = request({ host, port, method, path: PREFIX + path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

function post(path, body, headers) {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return call('POST', path, bytes, {
    'Content-Type': 'application/json',
    'Content-Length': bytes.length,
    ...headers,
  }).then((r) => {
    // The runner ends the invocation whatever it answered; the next `next` simply waits.
    if (r.status !== 202) process.stderr.write(`run-lambda node client: POST ${path} answered ${r.status}\n`);
  });
}

/** `{errorType, errorMessage, trace}`; what is thrown need not be an Error (`throw 'x'` is type `string`). */
function formatError(err) {
  try {
    if (err instanceof Error) {
      return { errorType: err.name, errorMessage: err.message, trace: String(err.stack ?? '').split('\n') };
    }
    return { errorType: typeof err, errorMessage: String(err), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: 'the thrown value could not be described', trace: [] };
  }
}

/** The function's log line for a failure, before it is reported (never throws); resolves once it is written. */
function logInvokeError(label, err) {
  const e = err instanceof Error ? err : new Error(String(err));
  // Written before the post: the runner ends the runtime once the error is in, and a pipe is written later.
  const flushed = () => new Promise((r) => process.stdout.write('', r));
  if (jsonLogs) {
    console.error(e);
    return flushed();
  }
  let detail;
  try {
    detail = JSON.stringify({ ...formatError(err), ...(err instanceof Error ? err : {}) });
  } catch {
    detail = JSON.stringify(formatError(err));
  }
  console.error(label, `\t${detail}`);
  return flushed();
}

// --- response streaming: awslambda.streamifyResponse and HttpResponseStream ---------------------------------

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

// biome-ignore lint/complexity/noStaticOnlyClass: Lambda exposes it as a class (awslambda.HttpResponseStream.from)
class HttpResponseStream {
  /** Prefixes the stream with a JSON prelude (status, headers) and 8 NUL bytes, as function URLs expect. */
  static from(stream, prelude) {
    stream.setContentType(PRELUDE_CONTENT_TYPE);
    stream._onBeforeFirstWrite = (write) => {
      write(JSON.stringify(prelude));
      write(new Uint8Array(8));
    };
    return stream;
  }
}

function installGlobals() {
  const off = ['1', 'true'].includes(process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA ?? '');
  if (off) return;
  globalThis.awslambda = {
    ...globalThis.awslambda,
    streamifyResponse(handler, options) {
      handler[STREAMING] = 'response';
      if (typeof options?.highWaterMark === 'number') handler[HIGH_WATER_MARK] = options.highWaterMark;
      return handler;
    },
    HttpResponseStream,
  };
}

/** The response stream a streaming handler writes to: a chunked POST that may end with error trailers. */
function openResponseStream(id) {
  let written = false;
  let answered;
  const done = new Promise((ok, fail) => {
    answered = { ok, fail };
  });
  const req = request(
    {
      host,
      port,
      agent,
      method: 'POST',
      path: `${PREFIX}/invocation/${encodeURIComponent(id)}/response`,
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        Trailer: ['Lambda-Runtime-Function-Error-Type', 'Lambda-Runtime-Function-Error-Body'],
        'Content-Type': 'application/octet-stream',
        'Transfer-Encoding': 'chunked',
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => answered.ok(res.statusCode));
      res.on('error', answered.fail);
    },
  );
  req.on('error', (err) => answered.fail(err));
  const write = req.write.bind(req);
  req.setContentType = (type) => {
    if (written) throw typed('Runtime.InvalidStreamingOperation', 'Cannot set content-type, too late.');
    req.setHeader('Content-Type', type);
  };
  req.write = (chunk, encoding, cb) => {
    if (!written && typeof req._onBeforeFirstWrite === 'function') req._onBeforeFirstWrite((c) => write(c));
    written = true;
    const data =
      typeof chunk === 'string' || Buffer.isBuffer(chunk) || chunk instanceof Uint8Array
        ? chunk
        : JSON.stringify(chunk);
    return write(data, encoding, cb);
  };
  const fail = (err) => {
    const error = formatError(err);
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': error.errorType,
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
    });
    return new Promise((ok) => req.end(ok));
  };
  return { stream: req, done, fail };
}

async function invokeStreaming(fn, event, context, id) {
  const { stream, done, fail } = openResponseStream(id);
  try {
    const result = fn(event, stream, context);
    if (typeof result?.then !== 'function') throw new Error('Streaming does not support non-async handlers.');
    if ((await result) !== undefined) console.warn('Streaming handlers ignore return values.');
    await done;
    if (!stream.writableFinished) throw new Error('Response stream is not finished.');
  } catch (err) {
    await new Promise((r) => setImmediate(r));
    await logInvokeError('Invoke Error', err);
    if (!stream.writableEnded) await fail(err);
    await done.catch(() => {});
  }
}

// --- the handler ----------------------------------------------------------------------------------------------

const CALLBACK_REMOVED =
  'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. ' +
  'You need to modify this function to use a supported handler signature to use Node.js 24 or later. ' +
  'For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';

/** The handler (handler-loader.mjs), held to what this runtime takes: response streaming, no callbacks on nodejs24.x. */
async function loadRuntimeHandler(taskRoot, handler) {
  const fn = await loadHandler(taskRoot, handler);
  const streaming = fn[STREAMING];
  if (streaming && streaming !== 'response') {
    throw typed('Runtime.MalformedStreamingHandler', 'Only response streaming is supported.');
  }
  if (nodeMajor >= 24 && fn.length >= 3 && !streaming) {
    throw typed('Runtime.CallbackHandlerDeprecated', CALLBACK_REMOVED);
  }
  return fn;
}

/** A header holding JSON (client context, Cognito identity), parsed; a bad one fails the invocation. */
function jsonHeader(headers, name, label) {
  const value = headers[name];
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw typed('Runtime.PlatformError', `Failed to parse ${label} as JSON`);
  }
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
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    xRayTraceId: headers['lambda-runtime-trace-id'],
    identity: jsonHeader(headers, 'lambda-runtime-cognito-identity', 'lambda-runtime-cognito-identity'),
    clientContext: jsonHeader(headers, 'lambda-runtime-client-context', 'lambda-runtime-client-context'),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

function invoke(fn, event, context) {
  // Callback-style handlers (before nodejs24.x) take three parameters; the first settlement wins.
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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The event, or Runtime.UnmarshalError with a message that quotes none of the payload. */
function unmarshal(body) {
  let text;
  try {
    text = utf8.decode(body);
  } catch {
    throw typed('Runtime.UnmarshalError', 'Unable to unmarshal input: the event is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the fault: keep only where it is.
    const at = /at position (\d+)/.exec(String(err?.message))?.[1];
    const where = at === undefined ? '' : ` (at position ${at})`;
    throw typed('Runtime.UnmarshalError', `Unable to unmarshal input: the event is not valid JSON${where}`);
  }
}

async function serve(fn) {
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    const trace = next.headers['lambda-runtime-trace-id'];
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    else delete process.env._X_AMZN_TRACE_ID;
    currentRequestId = id;
    currentTenantId = next.headers['lambda-runtime-aws-tenant-id'];
    let event;
    let context;
    try {
      context = makeContext(next.headers);
      event = unmarshal(next.body);
    } catch (err) {
      await logInvokeError('Invoke Error', err);
      await post(`/invocation/${id}/error`, JSON.stringify(formatError(err)));
      continue;
    }
    next.body = undefined;
    if (fn[STREAMING] === 'response') {
      await invokeStreaming(fn, event, context, id);
      continue;
    }
    let result;
    try {
      result = await invoke(fn, event, context);
    } catch (err) {
      await new Promise((r) => setImmediate(r));
      await logInvokeError('Invoke Error', err);
      await post(`/invocation/${id}/error`, JSON.stringify(formatError(err)));
      continue;
    }
    let text;
    try {
      text = JSON.stringify(result === undefined ? null : result);
    } catch (cause) {
      const e = typed('Runtime.JSONStringifyError', 'Unable to stringify response body', cause);
      await logInvokeError('Invoke Error', e);
      await post(`/invocation/${id}/error`, JSON.stringify(formatError(e)));
      continue;
    }
    await post(`/invocation/${id}/response`, text);
  }
}

async function main() {
  installGlobals();
  patchConsole();
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  let fn;
  try {
    fn = await loadRuntimeHandler(taskRoot, process.env._HANDLER ?? '');
  } catch (err) {
    await logInvokeError('Init Error', err);
    const body = formatError(err);
    await post('/init/error', JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': body.errorType });
    process.exit(1);
  }
  await serve(fn);
}

await main();
