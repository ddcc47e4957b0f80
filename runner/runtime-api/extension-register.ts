// POST /2020-01-01/extension/register: an extension registers by its file name (`Lambda-Extension-Name`) for INVOKE
// and SHUTDOWN; the answer names the function, with `accountId` only for `Lambda-Extension-Accept-Feature: accountId`,
// and the `Lambda-Extension-Identifier` every later call carries (Extensions API reference, Register).
import { isRefusal, parseRegisterBody } from '../extensions/registry.js';
import { sendJson, sendRefusalBody } from './render.js';
import { headerValue, type RouteContext, readBody } from './state.js';

/** A register body is a short list of events; anything larger is not one. */
const REGISTER_BODY_LIMIT = 64 * 1024;

export async function handleExtensionRegister(ctx: RouteContext): Promise<void> {
  const { req, res, state } = ctx;
  const text = (await readBody(ctx, REGISTER_BODY_LIMIT)) ?? '';
  const name = headerValue(req.headers['lambda-extension-name']) ?? '';
  const events = name ? parseRegisterBody(text) : [];
  if (isRefusal(events)) {
    sendRefusalBody(res, events.status, events.errorType, events.message);
    return;
  }
  const feature = headerValue(req.headers['lambda-extension-accept-feature']);
  const registered = state.extensions.register(name, events, feature);
  if (isRefusal(registered)) {
    state.log(`extension ${JSON.stringify(name)} was refused: ${registered.message}`);
    sendRefusalBody(res, registered.status, registered.errorType, registered.message);
    return;
  }
  state.log(`extension ${name} registered for ${events.join(', ') || 'no events'}`);
  state.telemetry.platform({ type: 'extension', at: Date.now(), name, state: 'Ready', events });
  sendJson(res, 200, registered.answer, { 'Lambda-Extension-Identifier': registered.id });
}
