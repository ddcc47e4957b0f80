// PUT /2020-08-15/logs: the Logs API's subscription, which the Telemetry API supersedes but Lambda still serves (Logs
// API reference, Subscribe).
import type { RouteContext } from './state.js';
import { handleSubscribe } from './subscribe.js';

export function handleLogsSubscribe(ctx: RouteContext): Promise<void> {
  return handleSubscribe(ctx, 'logs');
}
