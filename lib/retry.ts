// One retry loop and one "is this worth another try" rule for every AWS call and download the project makes.
import { setTimeout as sleep } from 'node:timers/promises';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Delay before the second try; doubled for each later one, with jitter. */
  baseDelayMs: number;
  /** Upper bound of one delay. */
  maxDelayMs?: number;
  /** Whether `err`, the error of try number `attempt`, may pass on another try (default: isTransient). */
  retryable?: (err: unknown, attempt: number) => boolean;
  /** The wait after try number `attempt` failed with `err` (default: equal jitter, below). */
  delayMs?: (attempt: number, err: unknown) => number;
  /** How a wait is spent (default: a timer, cut short by `signal`); tests pass a virtual clock's. */
  sleep?: (ms: number) => Promise<void>;
  /** Told before each retry (for a log line). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Stops retrying (and waiting) once aborted; the last error is thrown. */
  signal?: AbortSignal;
  /** [0, 1): injectable for tests. */
  random?: () => number;
}

/**
 * Runs `fn` until it resolves, the error is not retryable, the attempts are used up or `signal` aborts; throws
 * the last error. Delays are "equal jitter" unless `delayMs` says otherwise: half the exponential step fixed, half
 * random, so runners that failed together do not retry together.
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const retryable = opts.retryable ?? isTransient;
  const random = opts.random ?? Math.random;
  const equalJitter = (attempt: number) => {
    const step = Math.min(opts.baseDelayMs * 2 ** (attempt - 1), opts.maxDelayMs ?? 20_000);
    return Math.round(step / 2 + (random() * step) / 2);
  };
  const wait = opts.sleep ?? ((ms) => sleep(ms, undefined, opts.signal ? { signal: opts.signal } : {}));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || opts.signal?.aborted || !retryable(err, attempt)) throw err;
      const delayMs = opts.delayMs ? opts.delayMs(attempt, err) : equalJitter(attempt);
      opts.onRetry?.(err, attempt, delayMs);
      try {
        await wait(delayMs);
      } catch {
        throw err;
      }
    }
  }
}

/** Socket and stream failures of a connection that was lost or went silent (Node's own codes). */
const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  syscall?: string;
  path?: unknown;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/**
 * True for what a retry may not meet again: a 5xx, throttling (429, SlowDown…), a timeout, or a connection
 * that was refused, cut or stalled. AWS SDK errors are judged by the SDK's own classification; plain HTTP
 * answers by their `$metadata.httpStatusCode`. Never for an abort, and never for a failure of our own
 * file system (an error with a `path`: a full disk does not empty itself between two tries).
 */
export function isTransient(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as ErrorShape;
  if (e.name === 'AbortError') return false;
  if (typeof e.path === 'string') return false;
  const sdk = err as Parameters<typeof isTransientError>[0];
  if (isTransientError(sdk) || isThrottlingError(sdk) || isServerError(sdk)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  if (e.name === 'TimeoutError' || CONNECTION_CODES.has(e.code ?? '')) return true;
  // A socket hang-up is reported as a plain Error with code ECONNRESET; a premature close sometimes only
  // by message (the stream was destroyed by the other side).
  if (/^(aborted|socket hang up|Premature close)$/.test(e.message ?? '')) return true;
  return e.cause !== undefined && depth < 8 && isTransient(e.cause, depth + 1);
}

/** Throttling, as the SDK classifies it (429, TooManyRequestsException, SlowDown, Throttling…). */
export function isThrottling(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as ErrorShape;
  return (
    isThrottlingError(err as Parameters<typeof isThrottlingError>[0]) ||
    e.$metadata?.httpStatusCode === 429 ||
    /Throttl|TooManyRequests/.test(e.name ?? '')
  );
}

/** The HTTP status the server answered with, or undefined when no answer arrived (or it could not be read). */
export function answeredStatus(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  return (err as ErrorShape).$metadata?.httpStatusCode;
}

/**
 * True when no answer came (the connection was lost, a timeout), or a 2xx whose body was cut (the SDK then fails
 * to read it): the call may have taken effect.
 */
export function isUnanswered(err: unknown): boolean {
  const status = answeredStatus(err);
  return status === undefined || status < 300;
}

/**
 * For calls that must not be sent twice (SubmitJob, RegisterJobDefinition): true when the server answered and its
 * answer may change on another try (a 5xx or throttling). An error with no answer is not retryable here: the call
 * may have taken effect, and the caller looks for what it made instead of resending it (sendOrFind).
 */
export function isAnsweredRetryable(err: unknown): boolean {
  if (isUnanswered(err)) return false;
  return (answeredStatus(err) ?? 0) >= 500 || isThrottling(err);
}

/** What a call that must not be sent twice came to: its own answer, or what it made, found after its answer was lost. */
export type SendOutcome<T> = { how: 'sent' | 'found'; value: T };

/**
 * The never-resend rule, one try of it: `send` once; when it fails so that it may have taken effect (`uncertain`:
 * by default, no answer came), `find` looks for what it made, and a find is the outcome. Any other failure, and an
 * uncertain one that finds nothing, is thrown as it was, for withRetries to judge: SubmitJob sends again only an
 * answered retryable refusal (isAnsweredRetryable), since a job not yet listed may still exist; RegisterJobDefinition,
 * held under its lock, also sends again after a lookup that found nothing.
 */
export async function sendOrFind<T>(
  send: () => Promise<T>,
  find: () => Promise<T | undefined>,
  uncertain: (err: unknown) => boolean = isUnanswered,
): Promise<SendOutcome<T>> {
  try {
    return { how: 'sent', value: await send() };
  } catch (err) {
    if (!uncertain(err)) throw err;
    const found = await find().catch(() => undefined);
    if (found !== undefined) return { how: 'found', value: found };
    throw err;
  }
}
