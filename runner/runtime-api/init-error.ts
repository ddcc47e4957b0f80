// POST /runtime/init/error: the runtime could not load the handler (before it asked for the event).
import { readErrorBody } from './read-error-body.js';
import { ApiErrorType, sendAccepted, sendError } from './render.js';
import type { RouteContext } from './state.js';

export async function handleInitError(ctx: RouteContext): Promise<void> {
  const { life, limits } = ctx.state;
  if (life.phase !== 'init') {
    sendError(ctx.res, 403, ApiErrorType.invalidState, `init is over (state: ${life.phase})`);
    return;
  }
  const read = await readErrorBody(ctx, limits.maxErrorBytes);
  if (life.phase !== 'init') {
    // Reset, or a second init error, while this body streamed in.
    sendError(ctx.res, 403, ApiErrorType.invalidState, `init is over (state: ${life.phase})`);
    return;
  }
  life.failInit(read.report);
  if (read.tooLarge !== undefined) {
    const msg = `error body of ${read.tooLarge} bytes exceeds the ${limits.maxErrorBytes}-byte limit`;
    sendError(ctx.res, 413, ApiErrorType.tooLarge, msg);
    return;
  }
  sendAccepted(ctx.res);
}
