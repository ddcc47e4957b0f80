// What PUT /2022-07-01/telemetry and PUT /2020-08-15/logs share: the subscribing extension (its identifier, as every
// Extensions API call), its body, and the hub's answer (200 "OK", or 400/403 with `{errorType, errorMessage}`).
import { isRefusal } from '../extensions/registry.js';
import type { TelemetryApiKind } from '../telemetry/subscription.js';
import { sendJson, sendRefusalBody } from './render.js';
import { headerValue, type RouteContext, readBody } from './state.js';

/** A subscription is a few hundred bytes. */
const SUBSCRIPTION_BODY_LIMIT = 64 * 1024;

export async function handleSubscribe(ctx: RouteContext, api: TelemetryApiKind): Promise<void> {
  const { req, res, state } = ctx;
  const text = await readBody(ctx, SUBSCRIPTION_BODY_LIMIT);
  const ext = state.extensions.lookup(headerValue(req.headers['lambda-extension-identifier']));
  if (isRefusal(ext)) {
    sendRefusalBody(res, ext.status, ext.errorType, ext.message);
    return;
  }
  const answer = state.telemetry.subscribe(api, ext.name, text ?? '');
  state.log(`extension ${ext.name} subscribed to the ${api} API: ${answer.status}`);
  sendJson(res, answer.status, answer.body);
}
