// The run record's shape: its fields and their types, which the runner fills in and post-batch reads. The rules that
// hold them (its one reader and writer) and where a record goes are in run-record.ts.

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
  /**
   * the machine it is built for, x86_64 or arm64: a deployed function's configuration; for local code, what its native
   * files show (null when it has none, and in records of earlier runners)
   */
  architecture: string | null;
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
  /** the machine the runner ran on (x86_64, arm64); null in records of earlier runners */
  architecture: string | null;
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

/** One of the function's extensions: an executable of its layers' extensions/ folder, or one registered from inside
 * its runtime (`external` false); whether it registered, the events it registered for, and the error type it reported. */
export interface RunExtension {
  name: string;
  external: boolean;
  registered: boolean;
  events: string[];
  error_type?: string;
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
  /** the Batch job this run redrives (RUN_LAMBDA_REDRIVE_OF), when it is a redrive */
  redrive_of?: string;
  /** null when the run failed before it read its payload */
  payload: RunObject | null;
  /** present exactly when status is succeeded */
  result?: RunObject;
  timings: RunTimings;
  /** present when the function had extensions */
  extensions?: RunExtension[];
}
