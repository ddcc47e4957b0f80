// POST /runtime/invocation/{id}/error: the handler failed; the type comes from the body's `errorType`.
import { isRefusal } from './lifecycle.js';
import { readErrorBody } from './read-error-body.js';
import { ApiErrorType, sendAccepted, sendError } from './render.js';
import { type RouteContext, sendRefusal } from './state.js';

export async function handleError(ctx: RouteContext): Promise<void> {
  const { life, limits } = ctx.state;
  // Claimed before the body is read, so a concurrent response or error post is refused at once.
  const slot = life.claim(ctx.params.requestId);
  if (isRefusal(slot)) {
    sendRefusal(ctx.res, slot);
    return;
  }
  let read: Awaited<ReturnType<typeof readErrorBody>>;
  try {
    read = await readErrorBody(ctx, limits.maxErrorBytes);
  } catch (err) {
    // The runtime went away mid-body: no verdict; the runner sees the runtime exit.
    life.release(slot);
    throw err;
  }
  // Whatever the answer, the invocation ends: a runtime told 413 would otherwise wait for an event forever.
  life.finish(slot, { kind: 'error', ...read.report });
  if (read.tooLarge !== undefined) {
    const msg = `error body of ${read.tooLarge} bytes exceeds the ${limits.maxErrorBytes}-byte limit`;
    sendError(ctx.res, 413, ApiErrorType.tooLarge, msg);
    return;
  }
  sendAccepted(ctx.res);
}
