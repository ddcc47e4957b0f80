// What POST /extension/init/error and /extension/exit/error share: the extension, the required
// `Lambda-Extension-Function-Error-Type`, the `ErrorRequest` body, then 202; no later call of it succeeds (Extensions
// API reference, Init error and Exit error).
import { isRefusal } from '../extensions/registry.js';
import { parseErrorBody } from './read-error-body.js';
import { sendAccepted, sendRefusalBody } from './render.js';
import { headerValue, type RouteContext, readBody } from './state.js';

/** An error report is a message and a stack; Lambda caps bodies at its payload limit. */
const ERROR_BODY_LIMIT = 1024 * 1024;

export async function handleExtensionError(ctx: RouteContext, kind: 'init' | 'exit'): Promise<void> {
  const { req, res, state } = ctx;
  const text = await readBody(ctx, ERROR_BODY_LIMIT);
  const ext = state.extensions.lookup(headerValue(req.headers['lambda-extension-identifier']));
  const errorType = headerValue(req.headers['lambda-extension-function-error-type']);
  if (isRefusal(ext) && ext.errorType !== 'Extension.UnknownExtensionIdentifier') {
    sendRefusalBody(res, ext.status, ext.errorType, ext.message);
    return;
  }
  if (!errorType) {
    sendRefusalBody(res, 403, 'Extension.MissingHeader', 'Lambda-Extension-Function-Error-Type not found');
    return;
  }
  if (isRefusal(ext)) {
    sendRefusalBody(res, 403, ext.errorType, 'Unknown Lambda-Extension-Identifier');
    return;
  }
  // The header is the error's type; the body (errorType, errorMessage, stackTrace) says what went wrong.
  const { errorMessage } = parseErrorBody(text ?? '{}', errorType);
  const refused = state.extensions.reportError(ext, kind, { errorType, errorMessage });
  if (refused) {
    sendRefusalBody(res, refused.status, refused.errorType, refused.message);
    return;
  }
  state.log(`extension ${ext.name} reported ${kind}/error ${errorType}`);
  sendAccepted(res);
}
