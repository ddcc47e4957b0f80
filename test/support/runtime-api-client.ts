// A plain HTTP client for the runner's Runtime API (and the APIs beside it) in unit tests: one request, its status, headers and body.
import { request } from 'node:http';
import type { RuntimeApi } from '../../runner/runtime-api/server.js';

const PREFIX = '/2018-06-01/runtime';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface CallOptions {
  /** Sent after a chunked body (Buffer[]). */
  trailers?: Record<string, string>;
  /** A chunked body is ended only when this resolves (to hold a post open while another is made). */
  endWhen?: Promise<void>;
}

/** Sends one Runtime API request (`path` after its prefix); a Buffer[] body goes chunked (no Content-Length). */
export function call(
  api: RuntimeApi,
  method: string,
  path: string,
  body?: string | Buffer[],
  headers: Record<string, string> = {},
  opts: CallOptions = {},
): Promise<Reply> {
  return callPath(api, method, PREFIX + path, body, headers, opts);
}

/** The same with the whole path: the Extensions (/2020-01-01/…), Telemetry and Logs APIs. */
export function callPath(
  api: Pick<RuntimeApi, 'address'>,
  method: string,
  path: string,
  body?: string | Buffer[],
  headers: Record<string, string> = {},
  opts: CallOptions = {},
): Promise<Reply> {
  const [host, port] = api.address.split(':');
  const trailer = opts.trailers ? { Trailer: Object.keys(opts.trailers).join(', ') } : {};
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, headers: { ...headers, ...trailer } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(body)) {
      // Chunked, no Content-Length: the limit must be enforced while streaming.
      for (const b of body) req.write(b);
      if (opts.trailers) req.addTrailers(opts.trailers);
      void (opts.endWhen ?? Promise.resolve()).then(() => req.end());
    } else req.end(body);
  });
}
