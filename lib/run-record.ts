// The run record (DESIGN.md "Run records"): its type and where it lives beside an output; its one parser is in
// run-record-parse.ts. No AWS SDK here: the runner writes records with this module and post-batch reads them.
import { ItemParts, isItemSetUrl } from './item-set.js';
import { parseRunRecord } from './run-record-parse.js';

/** Item i's result, record and error part: for runner/items/plan.ts, until it imports lib/item-set.ts itself. */
export { itemUrls } from './item-set.js';

export {
  InvalidRunRecordError,
  parseRunErrorJson,
  parseRunRecord,
  parseRunRecordJson,
} from './run-record-parse.js';

export const RunStatuses = ['succeeded', 'failed'] as const;
export type RunStatus = (typeof RunStatuses)[number];

/** A failure as the Runtime API reports it (also the whole body of an item's `<i>.error.json`). */
export interface RunError {
  errorType: string;
  errorMessage: string;
  stackTrace: string[];
}

/** What ran. `null` where it is not known: local mode (no ARN, version or code hash), or a run that failed first. */
export interface RunFunction {
  arn: string | null;
  version: string | null;
  runtime: string | null;
  handler: string | null;
  code_sha256: string | null;
  /** a container image function (PackageType Image): its image, and the digest it resolved to */
  image?: { uri: string; digest: string | null };
}

export interface RunLayer {
  arn: string;
  code_sha256: string;
}

export interface RunRunner {
  version: string;
  /** the image's runtime (RUN_LAMBDA_IMAGE_RUNTIME); null outside the images */
  image_runtime: string | null;
}

export interface RunBatch {
  job_id: string;
  attempt: number;
  /** AWS_BATCH_JOB_ARRAY_INDEX of an array child; null otherwise */
  array_index: number | null;
}

/** An object the run read or wrote: where, how many bytes, and their SHA-256 (hex), computed as they streamed. */
export interface RunObject {
  url: string;
  bytes: number;
  sha256: string;
}

/** ISO 8601 times, in order; `prepared` and `initialized` are null when the run failed before them. */
export interface RunTimings {
  started: string;
  prepared: string | null;
  initialized: string | null;
  finished: string;
}

export interface RunRecord {
  status: RunStatus;
  exit_code: number;
  /** present exactly when status is failed */
  error?: RunError;
  request_id: string | null;
  function: RunFunction;
  layers: RunLayer[];
  runner: RunRunner;
  /** present when the run was a Batch job */
  batch?: RunBatch;
  /** null when the run failed before it read its payload */
  payload: RunObject | null;
  /** present exactly when status is succeeded */
  result?: RunObject;
  timings: RunTimings;
}

/**
 * The record of a run's output: `.json` → `.run.json` (a name without `.json` gets `.run.json` appended). An item
 * set's is its prefix itself: each item has its own record there (lib/item-set.ts).
 */
export function recordUrlFor(outputUrl: string): string {
  if (isItemSetUrl(outputUrl)) return outputUrl;
  const { result, record } = ItemParts;
  return outputUrl.endsWith(result)
    ? `${outputUrl.slice(0, -result.length)}${record}`
    : `${outputUrl}${record}`;
}

/** A record's JSON text, checked first: what the runner writes (one PUT, after the result). */
export function formatRunRecord(record: RunRecord): string {
  parseRunRecord(record, 'to be written');
  return `${JSON.stringify(record)}\n`;
}
