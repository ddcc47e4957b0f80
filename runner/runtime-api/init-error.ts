// POST /runtime/init/error: the runtime could not load the handler (before it asked for the event).
import { readErrorBody } from './read-error-body.js';
import { ApiErrorType, sendAccepted, sendError } from './render.js';
import type { RouteContext } from './state.js';

export async function handleInitError(ctx: RouteContext): Promise<void> {
  const { state, res } = ctx;
  if (state.phase !== 'init') {
    sendError(res, 403, ApiErrorType.invalidState, `init is over (state: ${state.phase})`);
    return;
  }
  const report = await readErrorBody(ctx);
  if (!report) return;
  state.phase = 'done';
  state.settle({ kind: 'init-error', ...report });
  sendAccepted(res);
}
