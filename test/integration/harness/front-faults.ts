// Scoped fault injection for requests passing the front: error answers, dropped connections, latency.
import { randomBytes } from 'node:crypto';
import type { RecordedRequest, Service } from './front-log.js';

/** What a matching request gets instead of (or before) the real answer. */
export type FaultKind =
  /** answer with `status` (default 500) and an error body in the service's own format */
  | { kind: 'error'; status?: number; code?: string; message?: string }
  /** send the real answer's headers and the first `afterBytes` (default: half) of its body, then destroy the socket */
  | { kind: 'drop'; afterBytes?: number }
  /** wait `ms` before passing the request on */
  | { kind: 'latency'; ms: number }
  /**
   * go silent, holding the connection open: without `afterBytes`, read the request and never answer (it never
   * reaches moto); with it, send the real answer's headers and its first `afterBytes` bytes, then nothing.
   * The connection ends only when the client gives up (or the front stops).
   */
  | { kind: 'stall'; afterBytes?: number };

export type FaultSpec = FaultKind & {
  /** which requests; the recorded request (service, operation, path, parsed body…) */
  match: (r: RecordedRequest) => boolean;
  /** how many matching requests get the fault (default: all until removed) */
  times?: number;
};

export interface FaultHandle {
  /** requests this fault has answered so far */
  readonly hits: number;
  remove(): void;
}

interface Active {
  spec: FaultSpec;
  hits: number;
}

export class Faults {
  private list: Active[] = [];

  add(spec: FaultSpec): FaultHandle {
    const a: Active = { spec, hits: 0 };
    this.list.push(a);
    return {
      get hits() {
        return a.hits;
      },
      remove: () => {
        this.list = this.list.filter((x) => x !== a);
      },
    };
  }

  clear(): void {
    this.list = [];
  }

  /**
   * The faults that apply to `r`, consuming one of each's `times`: the summed latency, and the first
   * error or drop fault (later ones wait for the next request).
   */
  take(r: RecordedRequest): { latencyMs: number; fault?: Exclude<FaultKind, { kind: 'latency' }> } {
    let latencyMs = 0;
    let fault: Exclude<FaultKind, { kind: 'latency' }> | undefined;
    for (const a of this.list) {
      if (a.spec.times !== undefined && a.hits >= a.spec.times) continue;
      if (a.spec.kind !== 'latency' && fault) continue;
      let hit = false;
      try {
        hit = a.spec.match(r);
      } catch {
        hit = false;
      }
      if (!hit) continue;
      a.hits++;
      if (a.spec.kind === 'latency') latencyMs += a.spec.ms;
      else fault = a.spec;
    }
    return fault ? { latencyMs, fault } : { latencyMs };
  }
}

const DEFAULT_CODES: Record<string, Record<number, string>> = {
  s3: { 500: 'InternalError', 503: 'SlowDown', 403: 'AccessDenied', 429: 'SlowDown' },
  lambda: { 500: 'ServiceException', 503: 'ServiceException', 429: 'TooManyRequestsException' },
  batch: { 500: 'ServerException', 503: 'ServerException', 429: 'TooManyRequestsException' },
};

const DEFAULT_MESSAGES: Record<string, string> = {
  SlowDown: 'Please reduce your request rate.',
  InternalError: 'We encountered an internal error. Please try again.',
};

/** An error answer shaped as `service` would send it: S3 XML, query-protocol XML, or REST-JSON with x-amzn-ErrorType. */
export function errorAnswer(
  service: Service,
  fault: { status?: number; code?: string; message?: string },
): { status: number; headers: Record<string, string>; body: Buffer } {
  const status = fault.status ?? 500;
  const family = service === 'code' ? 's3' : service;
  const code =
    fault.code ?? DEFAULT_CODES[family]?.[status] ?? (status >= 500 ? 'InternalFailure' : 'BadRequest');
  const message = fault.message ?? DEFAULT_MESSAGES[code] ?? `Injected ${status} ${code}`;
  const requestId = randomBytes(8).toString('hex');
  if (family === 's3') {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`;
    return { status, headers: { 'content-type': 'application/xml' }, body: Buffer.from(xml) };
  }
  if (family === 'lambda' || family === 'batch') {
    return {
      status,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': code,
        'x-amzn-requestid': requestId,
      },
      body: Buffer.from(
        JSON.stringify({ Type: status >= 500 ? 'Service' : 'User', message, Message: message }),
      ),
    };
  }
  const type = status >= 500 ? 'Receiver' : 'Sender';
  const xml = `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status, headers: { 'content-type': 'text/xml' }, body: Buffer.from(xml) };
}
