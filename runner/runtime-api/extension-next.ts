// GET /2020-01-01/extension/event/next: held until the extension's next event (INVOKE or SHUTDOWN), which goes out as
// JSON with a fresh `Lambda-Extension-Event-Identifier` (Extensions API reference, Next). Asking is also how an
// extension says it is done with its last event, and, the first time, that its init is done.
import { randomUUID } from 'node:crypto';
import { isRefusal } from '../extensions/registry.js';
import { sendJson, sendRefusalBody } from './render.js';
import { headerValue, type RouteContext } from './state.js';

export async function handleExtensionNext(ctx: RouteContext): Promise<void> {
  const { req, res, state } = ctx;
  const id = headerValue(req.headers['lambda-extension-identifier']);
  const ext = state.extensions.lookup(id);
  if (isRefusal(ext)) {
    sendRefusalBody(res, ext.status, ext.errorType, ext.message);
    return;
  }
  const waiting = state.extensions.next(ext);
  if (isRefusal(waiting)) {
    sendRefusalBody(res, waiting.status, waiting.errorType, waiting.message);
    return;
  }
  req.resume();
  // An extension that gives up (or dies) while held is no longer waiting; its events stay queued for its next ask.
  const onClose = () => waiting.cancel();
  res.once('close', onClose);
  const event = await waiting.event;
  res.off('close', onClose);
  if (res.destroyed || res.writableEnded) return;
  if (!event) {
    sendRefusalBody(res, 403, 'Extension.InvalidExtensionState', `Extension ${ext.name} is ${ext.state}`);
    return;
  }
  sendJson(res, 200, event, {
    'Lambda-Extension-Event-Identifier': randomUUID(),
    'Lambda-Extension-Identifier': id as string,
  });
}
