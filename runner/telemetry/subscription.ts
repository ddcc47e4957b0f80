// A subscription request of the Telemetry API (PUT /2022-07-01/telemetry) or the Logs API (PUT /2020-08-15/logs), read
// and checked as Lambda checks it (Telemetry API reference, Subscribe; Logs API, Subscribe; their buffering tables):
// a 400 with `ValidationError` (`Logs.ValidationError`) that says which field is wrong and why.

export type TelemetryApiKind = 'telemetry' | 'logs';
export type TelemetryType = 'platform' | 'function' | 'extension';

export const TELEMETRY_TYPES: readonly TelemetryType[] = ['platform', 'function', 'extension'];

/** The schema versions each API takes; the first is the Logs API's default (the Telemetry API requires one). */
export const SCHEMA_VERSIONS: Record<TelemetryApiKind, readonly string[]> = {
  telemetry: ['2022-07-01', '2022-12-13', '2025-01-29'],
  logs: ['2020-08-15', '2021-03-18'],
};

/** Buffering limits and defaults, the same for both APIs ("Configuring memory usage and buffering"). */
export const BUFFERING = {
  maxItems: { min: 1_000, max: 10_000, default: 10_000 },
  maxBytes: { min: 262_144, max: 1_048_576, default: 262_144 },
  timeoutMs: { min: 25, max: 30_000, default: 1_000 },
} as const;

export interface Buffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

export type Destination =
  /** `url`: where the batches go (the sandbox's names resolved to the loopback); `uri`: as the extension gave it */
  { protocol: 'HTTP'; uri: string; url: URL } | { protocol: 'TCP'; port: number };

export interface Subscription {
  api: TelemetryApiKind;
  schemaVersion: string;
  types: ReadonlySet<TelemetryType>;
  buffering: Buffering;
  destination: Destination;
}

export interface SubscriptionRefusal {
  status: 400;
  errorType: string;
  message: string;
}

/**
 * The execution environment's own names for itself (Lambda delivers only inside it: "Specifying a destination
 * protocol"): `sandbox.localdomain` as the documents write it, `sandbox` as AWS's samples do, and the loopback's.
 */
const SANDBOX_HOSTS = new Set(['sandbox.localdomain', 'sandbox', 'localhost', '127.0.0.1', '[::1]']);

class Invalid extends Error {}

const fail = (message: string): never => {
  throw new Invalid(message);
};

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

function whole(v: unknown, field: string, range: { min: number; max: number }): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < range.min || v > range.max)
    fail(
      `${field} must be a whole number from ${range.min.toLocaleString('en-US')} to ${range.max.toLocaleString('en-US')}, got ${show(v)}`,
    );
  return v as number;
}

function buffering(v: unknown): Buffering {
  if (v === undefined || v === null)
    return {
      maxItems: BUFFERING.maxItems.default,
      maxBytes: BUFFERING.maxBytes.default,
      timeoutMs: BUFFERING.timeoutMs.default,
    };
  if (typeof v !== 'object' || Array.isArray(v)) fail(`buffering must be an object, got ${show(v)}`);
  const b = v as Record<string, unknown>;
  const pick = (k: keyof typeof BUFFERING) =>
    b[k] === undefined ? BUFFERING[k].default : whole(b[k], `buffering.${k}`, BUFFERING[k]);
  return { maxItems: pick('maxItems'), maxBytes: pick('maxBytes'), timeoutMs: pick('timeoutMs') };
}

function destination(v: unknown): Destination {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(`destination must be an object, got ${show(v)}`);
  const d = v as Record<string, unknown>;
  if (d.protocol === 'TCP')
    return { protocol: 'TCP', port: whole(d.port, 'destination.port', { min: 1, max: 65_535 }) };
  if (d.protocol !== 'HTTP') fail(`destination.protocol must be "HTTP" or "TCP", got ${show(d.protocol)}`);
  const uri = d.URI;
  if (typeof uri !== 'string' || uri === '')
    fail(`destination.URI must be a non-empty string, got ${show(uri)}`);
  let url: URL;
  try {
    url = new URL(uri as string);
  } catch {
    return fail(`destination.URI is not a URI: ${show(uri)}`);
  }
  if (url.protocol !== 'http:')
    fail(`destination.URI must be http:// (Lambda sends no HTTPS), got ${show(uri)}`);
  if (!SANDBOX_HOSTS.has(url.hostname))
    fail(
      `destination.URI must name the execution environment, http://sandbox.localdomain:<port>[/path], got ${show(uri)}`,
    );
  if (url.port === '') fail('URI port is not provided');
  // Delivered over the loopback whatever the name resolves to here (the sandbox's names may resolve nowhere).
  const target = new URL(url.href);
  target.hostname = '127.0.0.1';
  return { protocol: 'HTTP', uri: uri as string, url: target };
}

function types(v: unknown): Set<TelemetryType> {
  if (!Array.isArray(v) || v.length === 0) fail('types should not be empty');
  const out = new Set<TelemetryType>();
  (v as unknown[]).forEach((t, i) => {
    if (!TELEMETRY_TYPES.includes(t as TelemetryType))
      fail(`types[${i}] must be one of ${TELEMETRY_TYPES.join(', ')}, got ${show(t)}`);
    out.add(t as TelemetryType);
  });
  return out;
}

/** The subscription in `text`, or the 400 that says what is wrong with it. */
export function parseSubscription(api: TelemetryApiKind, text: string): Subscription | SubscriptionRefusal {
  const errorType = api === 'telemetry' ? 'ValidationError' : 'Logs.ValidationError';
  try {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return fail(`the body is not JSON: ${(err as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      fail('the body must be a JSON object');
    const b = body as Record<string, unknown>;
    const versions = SCHEMA_VERSIONS[api];
    const schemaVersion = b.schemaVersion ?? (api === 'logs' ? versions[0] : undefined);
    if (typeof schemaVersion !== 'string' || !versions.includes(schemaVersion))
      fail(`schemaVersion must be one of ${versions.join(', ')}, got ${show(b.schemaVersion)}`);
    return {
      api,
      schemaVersion: schemaVersion as string,
      types: types(b.types),
      buffering: buffering(b.buffering),
      destination: destination(b.destination),
    };
  } catch (err) {
    if (err instanceof Invalid) return { status: 400, errorType, message: err.message };
    throw err;
  }
}
