// What the runner offers the runtime (one invocation) and what it gets back (its outcome): the Runtime API's data.
import type { Readable } from 'node:stream';

/** One invocation as the runtime sees it on `next`. */
export interface Invocation {
  requestId: string;
  /** Epoch milliseconds: `Lambda-Runtime-Deadline-Ms`. */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
  /** `Lambda-Runtime-Aws-Tenant-Id`, for a function with tenant isolation. */
  tenantId?: string;
  /** `Lambda-Runtime-Client-Context`: JSON text, as Lambda passes it (decoded from the Invoke's base64). */
  clientContext?: string;
  /** `Lambda-Runtime-Cognito-Identity`: JSON text. */
  cognitoIdentity?: string;
  /** Opens the event; may wait until the payload has arrived (so the runtime can start before it). */
  openEvent(): Promise<{ stream: Readable; size?: number }>;
  /** Where the response body is streamed to (created by the `response` endpoint). */
  resultPath: string;
  /**
   * A response that declares at most this many bytes (its Content-Length; not one posted in streaming mode) is kept
   * in memory and handed over as `resultStored`'s `body`, not written to `resultPath` (an item's small result).
   */
  resultInMemoryUpTo?: number;
  /**
   * Told the size, CRC-32 and SHA-256 (hex) of the result once it is stored, just before the outcome settles: the
   * upload sends the checksum and the run record the hash, instead of reading the file again to compute them.
   */
  resultStored?: (info: StoredResult) => void;
}

/** What the `response` endpoint learnt of a result as it streamed to disk (or to memory). */
export interface StoredResult {
  bytes: number;
  crc32: number;
  sha256: string;
  /** The result itself when it was kept in memory (`resultInMemoryUpTo`): nothing at `resultPath`. */
  body?: Buffer;
}

/** `{errorType, errorMessage, stackTrace}` as a runtime reports a failure. */
export interface ErrorReport {
  errorType: string;
  errorMessage: string;
  stackTrace?: unknown;
}

/** How one invocation ended, as far as the Runtime API can tell. */
export type Outcome =
  /** the result is in `resultPath` (or was handed over in memory); `streamed` when posted in streaming mode */
  | { kind: 'response'; bytes: number; contentType?: string; streamed: boolean }
  /** the runtime sent a result but the runner could not store it (its own disk: full, read-only…) */
  | { kind: 'result-not-stored'; message: string }
  /** the event could not be opened for the runtime (`openEvent` failed): the payload's fault, not the function's */
  | { kind: 'event-not-read'; message: string }
  /** the handler failed, or the runtime's init failed before it took the event */
  | ({ kind: 'error' | 'init-error' } & ErrorReport)
  /**
   * the runtime went away (`reset`) before it reported anything for this invocation; `errorType` when its loss has a
   * type of its own (Runtime.OutOfMemory), else it is Runtime.ExitError
   */
  | { kind: 'runtime-lost'; reason: string; errorType?: string };

/** Lambda's payload limit, which it applies to error bodies too (6 MiB plus Lambda's 100-byte allowance). */
export const LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024 + 100;

export interface ApiLimits {
  /** Largest response body accepted (413 above, and the invocation fails). */
  maxResponseBytes: number;
  /** Largest error body accepted (413 above, and the invocation fails with what could be read of it). */
  maxErrorBytes: number;
}

export const defaultLimits: ApiLimits = {
  // The runner exists for results Lambda cannot carry (6 MB), so responses are bounded only by the disk.
  maxResponseBytes: Number.MAX_SAFE_INTEGER,
  maxErrorBytes: LAMBDA_PAYLOAD_LIMIT,
};
