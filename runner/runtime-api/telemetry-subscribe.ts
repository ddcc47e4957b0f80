// PUT /2022-07-01/telemetry: an extension subscribes to platform events, the function's logs and the extensions' logs
// (Telemetry API reference, Subscribe).
import type { RouteContext } from './state.js';
import { handleSubscribe } from './subscribe.js';

export function handleTelemetrySubscribe(ctx: RouteContext): Promise<void> {
  return handleSubscribe(ctx, 'telemetry');
}
