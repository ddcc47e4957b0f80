// Answers Lambda's synchronous Invoke for chosen functions with an in-process handler (moto cannot run code).
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What an in-process handler learns about the invoke, shaped like the parts of Lambda's context it needs. */
export interface InvokeContext {
  functionName: string;
  /** from the name/ARN suffix or the Qualifier query; undefined for $LATEST */
  qualifier: string | undefined;
  invokedFunctionArn: string;
  awsRequestId: string;
  invocationType: string;
  /** decoded X-Amz-Client-Context, when sent */
  clientContext: unknown;
}

export type InvokeHandler = (event: unknown, ctx: InvokeContext) => Promise<unknown>;

const FUNCTION_ARN = /^(?:arn:aws[\w-]*:lambda:[\w-]+:)?\d{12}:function:([^:]+)(?::(.+))?$/;

/** The function name and qualifier from the `{FunctionName}` path segment of Invoke (name, name:qual, partial or full ARN). */
export function parseFunctionRef(
  ref: string,
  queryQualifier?: string | null,
): { name: string; qualifier?: string } {
  const m = FUNCTION_ARN.exec(ref);
  const [name, qualifier] = m ? [m[1] ?? '', m[2]] : (ref.split(':', 2) as [string, string | undefined]);
  const q = queryQualifier ?? qualifier;
  return q ? { name, qualifier: q } : { name };
}

/** The function ref from an Invoke path, or undefined for other paths. */
export function invokePathRef(path: string): string | undefined {
  const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(path);
  return m?.[1];
}

/** Runs `handler` as Lambda's Invoke would, returning the HTTP answer (handler errors become X-Amz-Function-Error). */
export async function runInvoke(
  handler: InvokeHandler,
  ref: { name: string; qualifier?: string },
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const invocationType = String(headers['x-amz-invocation-type'] ?? 'RequestResponse');
  const awsRequestId = randomUUID();
  const base = { 'x-amzn-requestid': awsRequestId, 'x-amz-executed-version': ref.qualifier ?? '$LATEST' };
  if (invocationType === 'DryRun') return { status: 204, headers: base, body: Buffer.alloc(0) };
  let event: unknown;
  try {
    event = rawBody.length ? JSON.parse(rawBody.toString('utf8')) : {};
  } catch {
    const body = { Type: 'User', message: 'Could not parse request body into json' };
    return {
      status: 400,
      headers: {
        ...base,
        'content-type': 'application/json',
        'x-amzn-errortype': 'InvalidRequestContentException',
      },
      body: Buffer.from(JSON.stringify(body)),
    };
  }
  const cc = headers['x-amz-client-context'];
  const ctx: InvokeContext = {
    functionName: ref.name,
    qualifier: ref.qualifier,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${ref.name}${ref.qualifier ? `:${ref.qualifier}` : ''}`,
    awsRequestId,
    invocationType,
    clientContext: typeof cc === 'string' ? safeJson(Buffer.from(cc, 'base64').toString('utf8')) : undefined,
  };
  if (invocationType === 'Event') {
    // Lambda queues async invokes; errors never reach the caller.
    void handler(event, ctx).catch(() => undefined);
    return { status: 202, headers: base, body: Buffer.alloc(0) };
  }
  try {
    const result = await handler(event, ctx);
    const body = Buffer.from(result === undefined ? 'null' : JSON.stringify(result));
    return { status: 200, headers: { ...base, 'content-type': 'application/json' }, body };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const body = {
      errorType: e.name || 'Error',
      errorMessage: e.message,
      trace: (e.stack ?? '').split('\n'),
    };
    return {
      status: 200,
      headers: { ...base, 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' },
      body: Buffer.from(JSON.stringify(body)),
    };
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
