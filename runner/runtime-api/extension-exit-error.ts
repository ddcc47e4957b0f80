// POST /2020-01-01/extension/exit/error: the extension met a failure it cannot go on from and is about to exit.
import { handleExtensionError } from './extension-error.js';
import type { RouteContext } from './state.js';

export function handleExtensionExitError(ctx: RouteContext): Promise<void> {
  return handleExtensionError(ctx, 'exit');
}
