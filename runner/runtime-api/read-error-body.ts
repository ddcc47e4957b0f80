// Reads the JSON body of an error post into `{errorType, errorMessage, stackTrace}`. Never throws on bad JSON;
// a body over the limit is drained, and its type and the start of its message are taken from what was kept.
import type { ErrorReport } from './invocation.js';
import { headerValue, type RouteContext } from './state.js';

/** How much of an oversized body's start and end is kept to find its type and message in. */
const KEEP = 64 * 1024;
/** How much of an oversized body's message is kept. */
const MESSAGE_KEEP = 4096;

export interface ReadError {
  report: ErrorReport;
  /** The body's size when it was over the limit (the caller answers 413). */
  tooLarge?: number;
}

export async function readErrorBody(ctx: RouteContext, limit: number): Promise<ReadError> {
  const chunks: Buffer[] = [];
  let size = 0;
  let head: Buffer | undefined;
  let tail = Buffer.alloc(0);
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (head === undefined && size <= limit) {
      chunks.push(chunk);
      continue;
    }
    if (head === undefined) {
      chunks.push(chunk);
      head = Buffer.concat(chunks).subarray(0, KEEP);
      chunks.length = 0;
    }
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > KEEP) tail = tail.subarray(tail.length - KEEP);
  }
  const headerType = headerValue(ctx.req.headers['lambda-runtime-function-error-type']);
  if (head !== undefined) {
    return {
      report: salvage(head.toString('utf8'), tail.toString('utf8'), size, limit, headerType),
      tooLarge: size,
    };
  }
  return { report: parseErrorBody(Buffer.concat(chunks).toString('utf8'), headerType) };
}

/** The report in a whole error body (the header is the fallback for hand-written runtimes: the official clients put the type in the body only). */
export function parseErrorBody(text: string, headerType?: string): ErrorReport {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    body = { errorMessage: text };
  }
  const errorType =
    typeof body.errorType === 'string' && body.errorType ? body.errorType : (headerType ?? 'Runtime.Unknown');
  const errorMessage =
    typeof body.errorMessage === 'string' ? body.errorMessage : String(body.errorMessage ?? '');
  return { errorType, errorMessage, stackTrace: body.stackTrace ?? body.trace };
}

/** The JSON string value of `"field": "…"` in a fragment, cut at `max` characters; undefined when absent. */
function stringField(text: string, field: string, max: number): string | undefined {
  const start = new RegExp(`"${field}"\\s*:\\s*"`).exec(text);
  if (!start) return undefined;
  let raw = '';
  for (let i = start.index + start[0].length; i < text.length && raw.length < max * 6; i++) {
    const c = text[i];
    if (c === '"') break;
    raw += c;
    if (c === '\\' && i + 1 < text.length) raw += text[++i];
  }
  // A cut may leave half an escape at the end.
  raw = raw.replace(/\\(u[0-9a-fA-F]{0,3})?$/, '');
  try {
    return (JSON.parse(`"${raw}"`) as string).slice(0, max);
  } catch {
    return undefined;
  }
}

function salvage(head: string, tail: string, size: number, limit: number, headerType?: string): ErrorReport {
  // Node's clients write the type first, Python's after the message: look at both ends.
  const errorType =
    stringField(head, 'errorType', 200) ??
    stringField(tail, 'errorType', 200) ??
    headerType ??
    'Function.ResponseSizeTooLarge';
  const message = stringField(head, 'errorMessage', MESSAGE_KEEP);
  const note = `error body of ${size} bytes exceeds the ${limit}-byte limit`;
  return { errorType, errorMessage: message === undefined ? note : `${message}… (cut: ${note})` };
}
