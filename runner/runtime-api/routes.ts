// The API's routes, as the specs list them: method, path, handler. The Runtime API (2018-06-01) and, on the same
// address as Lambda serves them, the Extensions API (2020-01-01), the Telemetry API (2022-07-01) and the Logs API
// (2020-08-15).
import { handleError } from './error.js';
import { handleExtensionExitError } from './extension-exit-error.js';
import { handleExtensionInitError } from './extension-init-error.js';
import { handleExtensionNext } from './extension-next.js';
import { handleExtensionRegister } from './extension-register.js';
import { handleInitError } from './init-error.js';
import { handleLogsSubscribe } from './logs-subscribe.js';
import { handleNext } from './next.js';
import { handleResponse } from './response.js';
import type { RouteContext } from './state.js';
import { handleTelemetrySubscribe } from './telemetry-subscribe.js';

/** The Runtime API's prefix: only its requests come from the runtime. */
export const API_PREFIX = '/2018-06-01/runtime';
export const EXTENSION_PREFIX = '/2020-01-01/extension';

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** The whole path; named groups become `params`. */
  path: RegExp;
  handle(ctx: RouteContext): Promise<void>;
}

const runtime = (path: string) => new RegExp(`^${API_PREFIX}${path}$`);
const extension = (path: string) => new RegExp(`^${EXTENSION_PREFIX}${path}$`);

export const routes: readonly Route[] = [
  { method: 'GET', path: runtime('/invocation/next'), handle: handleNext },
  { method: 'POST', path: runtime('/invocation/(?<requestId>[^/]+)/response'), handle: handleResponse },
  { method: 'POST', path: runtime('/invocation/(?<requestId>[^/]+)/error'), handle: handleError },
  { method: 'POST', path: runtime('/init/error'), handle: handleInitError },
  { method: 'POST', path: extension('/register'), handle: handleExtensionRegister },
  { method: 'GET', path: extension('/event/next'), handle: handleExtensionNext },
  { method: 'POST', path: extension('/init/error'), handle: handleExtensionInitError },
  { method: 'POST', path: extension('/exit/error'), handle: handleExtensionExitError },
  { method: 'PUT', path: /^\/2022-07-01\/telemetry\/?$/, handle: handleTelemetrySubscribe },
  { method: 'PUT', path: /^\/2020-08-15\/logs\/?$/, handle: handleLogsSubscribe },
];

/** True for a path of the Runtime API (a request of the runtime, not of an extension). */
export function isRuntimePath(url: string): boolean {
  return url.startsWith(`${API_PREFIX}/`);
}

/** The route for a request and its path parameters, or why there is none (404 or 405). */
export function match(
  method: string,
  url: string,
): { route: Route; params: Record<string, string> } | { status: 404 | 405 } {
  const path = url.split('?')[0] ?? '';
  let pathMatched = false;
  for (const route of routes) {
    const m = route.path.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    try {
      for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = decodeURIComponent(v);
    } catch {
      // A malformed %-escape cannot name a request id we handed out.
      return { status: 404 };
    }
    return { route, params };
  }
  return { status: pathMatched ? 405 : 404 };
}
