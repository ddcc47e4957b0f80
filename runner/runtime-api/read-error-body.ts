// Reads the small JSON body of an error post into `{errorType, errorMessage, stackTrace}`; never throws on bad JSON.
import { ApiErrorType, sendError } from './render.js';
import { type RouteContext, refuseDeclaredTooLarge } from './state.js';

export interface ErrorReport {
  errorType: string;
  errorMessage: string;
  stackTrace?: unknown;
}

/** The report, or undefined when the body was too large (413 already sent). */
export async function readErrorBody(ctx: RouteContext): Promise<ErrorReport | undefined> {
  const limit = ctx.state.limits.maxErrorBytes;
  if (refuseDeclaredTooLarge(ctx, limit)) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      sendError(ctx.res, 413, ApiErrorType.tooLarge, `error body exceeds the ${limit}-byte limit`);
      return undefined;
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const header = ctx.req.headers['lambda-runtime-function-error-type'];
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    body = { errorMessage: text };
  }
  // The official clients put the type in the body only; the header is the fallback for hand-written runtimes.
  const errorType =
    typeof body.errorType === 'string' && body.errorType
      ? body.errorType
      : typeof header === 'string' && header
        ? header
        : 'Runtime.Unknown';
  const errorMessage =
    typeof body.errorMessage === 'string' ? body.errorMessage : String(body.errorMessage ?? '');
  return { errorType, errorMessage, stackTrace: body.stackTrace ?? body.trace };
}
