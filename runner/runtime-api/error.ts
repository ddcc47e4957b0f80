// POST /runtime/invocation/{id}/error: the handler failed; the type comes from the body's `errorType`.
import { readErrorBody } from './read-error-body.js';
import { ApiErrorType, sendAccepted, sendError } from './render.js';
import { checkInvocationCall, type RouteContext } from './state.js';

export async function handleError(ctx: RouteContext): Promise<void> {
  if (!checkInvocationCall(ctx)) return;
  const report = await readErrorBody(ctx);
  if (!report) return;
  if (ctx.state.phase !== 'invoking') {
    sendError(ctx.res, 403, ApiErrorType.invalidState, `no invocation in flight (state: ${ctx.state.phase})`);
    return;
  }
  ctx.state.phase = 'done';
  ctx.state.settle({ kind: 'error', ...report });
  sendAccepted(ctx.res);
}
