// The Runtime API's routes, as the spec lists them: method, path, handler.
import { handleError } from './error.js';
import { handleInitError } from './init-error.js';
import { handleNext } from './next.js';
import { handleResponse } from './response.js';
import type { RouteContext } from './state.js';

export const API_PREFIX = '/2018-06-01/runtime';

export interface Route {
  method: 'GET' | 'POST';
  /** Path after API_PREFIX; named groups become `params`. */
  path: RegExp;
  handle(ctx: RouteContext): Promise<void>;
}

export const routes: readonly Route[] = [
  { method: 'GET', path: /^\/invocation\/next$/, handle: handleNext },
  { method: 'POST', path: /^\/invocation\/(?<requestId>[^/]+)\/response$/, handle: handleResponse },
  { method: 'POST', path: /^\/invocation\/(?<requestId>[^/]+)\/error$/, handle: handleError },
  { method: 'POST', path: /^\/init\/error$/, handle: handleInitError },
];

/** The route for a request and its path parameters, or why there is none (404 or 405). */
export function match(
  method: string,
  url: string,
): { route: Route; params: Record<string, string> } | { status: 404 | 405 } {
  const path = url.split('?')[0] ?? '';
  if (!path.startsWith(API_PREFIX)) return { status: 404 };
  const rest = path.slice(API_PREFIX.length);
  let pathMatched = false;
  for (const route of routes) {
    const m = route.path.exec(rest);
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
