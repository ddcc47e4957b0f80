// POST /2020-01-01/extension/init/error: the extension could not initialize; the run fails with its error type.
import { handleExtensionError } from './extension-error.js';
import type { RouteContext } from './state.js';

export function handleExtensionInitError(ctx: RouteContext): Promise<void> {
  return handleExtensionError(ctx, 'init');
}
