// The runner's option values, each checked by one parser that throws UsageError naming the option (options.ts calls
// them; nothing else reads raw option text).
import { arraySize, MAX_ITEMS } from '../lib/item-set.js';
import { AWS_BATCH_JOB_ARRAY_INDEX } from '../lib/job-plan.js';
import { UsageError } from './errors.js';
import { isLogLevel, type LogLevel, LogLevels } from './log.js';
import { Compat } from './runtime/compat/shim.js';
import { runtimeFamily } from './runtime/families.js';

export { Compat } from './runtime/compat/shim.js';

/**
 * Longest accepted duration (about 31 years): finite, and far past any job. Timers longer than Node's
 * 2^31-1 ms are chained (runner/runtime/long-timer.ts), so every value up to this one means what it says.
 */
export const MAX_SECONDS = 1_000_000_000;

export function parseSeconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0) || n > MAX_SECONDS) {
    throw new UsageError(
      `${flag} must be a positive number of seconds up to ${MAX_SECONDS}, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

/** A --runtime that is no Lambda runtime is a usage error here, before anything runs. */
export function parseRuntime(v: string | undefined): string | undefined {
  if (v !== undefined) runtimeFamily(v);
  return v;
}

export function parseCompat(v: string | undefined): Compat | undefined {
  if (v === undefined) return undefined;
  if (v !== Compat.cirrusV0)
    throw new UsageError(`--compat must be ${Compat.cirrusV0}, got ${JSON.stringify(v)}`);
  return v;
}

export function parseLogLevel(v: string): LogLevel {
  if (!isLogLevel(v))
    throw new UsageError(`--log-level must be one of ${LogLevels.join(', ')}, got ${JSON.stringify(v)}`);
  return v;
}

/** Lambda's TenantId: 1 to 256 characters of letters, digits and `._:/=+-@` or space. */
export function parseTenantId(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^[a-zA-Z0-9._:/=+\-@ ]{1,256}$/.test(v)) {
    throw new UsageError('--tenant-id must be 1 to 256 letters, digits, spaces or ._:/=+-@ characters');
  }
  return v;
}

/** Lambda caps the client context at 3583 bytes (as base64). */
const CLIENT_CONTEXT_MAX = 3583;

/**
 * A JSON object as one header-safe line (non-ASCII escaped); `base64` also takes it base64-encoded, as
 * Invoke's ClientContext is. The value is not quoted back in errors: it may hold secrets.
 */
export function parseJsonObject(flag: string, v: string | undefined, base64: boolean): string | undefined {
  if (v === undefined) return undefined;
  let text = v.trim();
  if (base64 && !text.startsWith('{') && /^[A-Za-z0-9+/=\s]+$/.test(text)) {
    text = Buffer.from(text, 'base64').toString('utf8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} must be a JSON object${base64 ? ' (or one in base64)' : ''}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(
      `${flag} must be a JSON object, not ${Array.isArray(parsed) ? 'an array' : typeof parsed}`,
    );
  }
  const line = JSON.stringify(parsed).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (base64 && Buffer.byteLength(Buffer.from(line).toString('base64')) > CLIENT_CONTEXT_MAX) {
    throw new UsageError(`${flag} is larger than Lambda's ${CLIENT_CONTEXT_MAX} bytes (base64)`);
  }
  return line;
}

/** `host:port` (`[v6]:port` for an IPv6 address), the port from 1 to 65535. */
export function parseAddress(flag: string, v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(v.trim());
  const port = Number(m?.[3]);
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new UsageError(`${flag} must be host:port (e.g. 127.0.0.1:9001), got ${JSON.stringify(v)}`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

/** A whole number from `min` to `max`, named after the option or variable it came from. */
export function parseWhole(name: string, v: string, min: number, max: number): number {
  const n = Number(v.trim());
  if (!/^\d+$/.test(v.trim()) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The items one child of an array job runs (docs/runner.md "Item sets (array jobs)"). */
export interface ItemSetOptions {
  /** n: items in the whole set */
  count: number;
  /** k: items per child */
  perJob: number;
  /** j: this child (AWS_BATCH_JOB_ARRAY_INDEX, 0 when unset) */
  index: number;
}

/**
 * Checks a set's numbers before anything runs: a count is required (1 to 10,000), k from 1 to 10,000, and the
 * child's first item `j*k` must be inside the set.
 */
export function parseItemSet(
  count: { name: string; value: string | undefined },
  perJob: { name: string; value: string | undefined },
  index: { name: string; value: string | undefined },
): ItemSetOptions {
  if (count.value === undefined) {
    throw new UsageError(
      `${count.name} is required for an item set (a payload URL ending in /): how many items the set holds`,
    );
  }
  const n = parseWhole(count.name, count.value, 1, MAX_ITEMS);
  const k = perJob.value === undefined ? 1 : parseWhole(perJob.name, perJob.value, 1, MAX_ITEMS);
  const j = index.value === undefined ? 0 : parseWhole(index.name, index.value, 0, MAX_ITEMS - 1);
  const children = arraySize(n, k);
  if (j >= children) {
    throw new UsageError(
      `${index.name} ${j} is past the end of the set: ${n} items, ${k} per job make ${children} ${children === 1 ? 'child (0)' : `children (0 to ${children - 1})`}`,
    );
  }
  return { count: n, perJob: k, index: j };
}

/** The Batch job a run is part of (the run record's `batch`), from the variables Batch sets. */
export interface BatchContext {
  jobId: string;
  attempt: number;
  arrayIndex: number | null;
}

export function parseBatchContext(
  jobId: string | undefined,
  attempt: string | undefined,
  arrayIndex: string | undefined,
): BatchContext | undefined {
  if (jobId === undefined) return undefined;
  return {
    jobId,
    // Batch counts attempts from 1 and allows at most 10.
    attempt: attempt === undefined ? 1 : parseWhole('AWS_BATCH_JOB_ATTEMPT', attempt, 1, 10),
    arrayIndex:
      arrayIndex === undefined ? null : parseWhole(AWS_BATCH_JOB_ARRAY_INDEX, arrayIndex, 0, MAX_ITEMS - 1),
  };
}
