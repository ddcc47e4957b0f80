// The run record (docs/runner.md "Run records") from what a run learnt on its way: checked by lib/run-record.ts's parser
// before it is written. Payload contents never go in: URLs, sizes and hashes only (a data: payload's URL is `data:`).
import { pathToFileURL } from 'node:url';
import type { RunError, RunObject, RunRecord } from '../../lib/run-record.js';
import { asRunnerError, FunctionError } from '../errors.js';
import type { ExtensionSummary } from '../extensions/host.js';
import type { FunctionIdentity, PreparedFunction } from '../function.js';
import type { BatchContext } from '../options.js';
import type { PayloadDigest } from '../payload/digest.js';
import { hostArchitecture } from '../runtime/architecture.js';

/** What a run (or one item of a set) learnt, filled in as it goes; times are epoch ms. */
export interface RunFacts {
  started: number;
  prepared?: number;
  /** The runtime's first request (for an item, that of the runtime that served it). */
  initialized?: number;
  fn?: PreparedFunction;
  /** What GetFunction said, for a run that failed before its function was prepared (a checksum refusal). */
  described?: FunctionIdentity;
  requestId?: string;
  payload?: { url: string; digest?: PayloadDigest };
  result?: RunObject;
  /** The function's extensions (none: the record has no `extensions`). */
  extensions?: ExtensionSummary[];
}

/** Who wrote the record, and where (the same for every record of a run). */
export interface RecordContext {
  version: string;
  imageRuntime?: string;
  batch?: BatchContext;
  /** the job this run redrives (RUN_LAMBDA_REDRIVE_OF) */
  redriveOf?: string;
}

/** Longest error message a record keeps (characters); a longer one is cut, saying so. */
export const RECORD_MESSAGE_MAX = 256 * 1024;

/** A payload or output place as the record names it: s3:// and file:// URLs as they are, `-` for stdin/stdout. */
export function recordUrlOf(place: { kind: string; url?: string; path?: string }): string {
  if (place.kind === 's3' && place.url) return place.url;
  if (place.kind === 'file' && place.path) return pathToFileURL(place.path).href;
  if (place.kind === 'data') return 'data:';
  return '-';
}

/** The record's error part: the function's own report, or the runner's error with no stack (it is not the function's). */
export function errorPart(err: unknown): RunError {
  const e = err instanceof FunctionError ? err : asRunnerError(err);
  const message =
    e.message.length > RECORD_MESSAGE_MAX
      ? `${e.message.slice(0, RECORD_MESSAGE_MAX)}… (cut; ${e.message.length} characters in all)`
      : e.message;
  return {
    errorType: /^[.\w]+$/.test(e.name) ? e.name : 'Error',
    errorMessage: message,
    stackTrace: e instanceof FunctionError ? e.stackTrace : [],
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const orNull = (s: string | undefined) => (s ? s : null);

/** Builds the record of a run that ended `ok` or with `error`, finished now. */
export function buildRecord(
  facts: RunFacts,
  end: { ok: true } | { ok: false; error: unknown },
  ctx: RecordContext,
  now: number = Date.now(),
): RunRecord {
  const fn = facts.fn;
  const deployed = fn?.deployed;
  // In order, as the contract wants: a runtime that connected before the function was prepared (an external one,
  // started beside the runner) counts as initialized when the runner was ready for it.
  const prepared = facts.prepared === undefined ? undefined : Math.max(facts.prepared, facts.started);
  const initialized =
    facts.initialized === undefined || prepared === undefined
      ? undefined
      : Math.max(facts.initialized, prepared);
  const finished = Math.max(now, initialized ?? prepared ?? facts.started);
  const digest = facts.payload?.digest;
  const record: RunRecord = {
    status: end.ok ? 'succeeded' : 'failed',
    exit_code: end.ok ? 0 : asRunnerError(end.error).exitCode,
    request_id: facts.requestId ?? null,
    function: fn
      ? {
          arn: deployed ? fn.invokedFunctionArn : null,
          version: deployed ? fn.functionVersion : null,
          runtime: orNull(fn.runtime),
          handler: orNull(fn.handler),
          code_sha256: orNull(deployed?.codeSha256),
          architecture: orNull(fn.architecture),
          ...(deployed?.image ? { image: deployed.image } : {}),
        }
      : {
          arn: orNull(facts.described?.arn),
          version: orNull(facts.described?.version),
          runtime: orNull(facts.described?.runtime),
          handler: orNull(facts.described?.handler),
          code_sha256: orNull(facts.described?.codeSha256),
          architecture: orNull(facts.described?.architecture),
        },
    layers: deployed?.layers.map((l) => ({ arn: l.arn, code_sha256: l.codeSha256 })) ?? [],
    runner: {
      version: ctx.version,
      image_runtime: ctx.imageRuntime ?? null,
      architecture: hostArchitecture(),
    },
    ...(ctx.batch
      ? {
          batch: {
            job_id: ctx.batch.jobId,
            attempt: ctx.batch.attempt,
            array_index: ctx.batch.arrayIndex,
          },
        }
      : {}),
    ...(ctx.redriveOf ? { redrive_of: ctx.redriveOf } : {}),
    payload:
      facts.payload && digest ? { url: facts.payload.url, bytes: digest.bytes, sha256: digest.sha256 } : null,
    timings: {
      started: iso(facts.started),
      prepared: prepared === undefined ? null : iso(prepared),
      initialized: initialized === undefined ? null : iso(initialized),
      finished: iso(finished),
    },
  };
  if (facts.extensions && facts.extensions.length > 0) {
    record.extensions = facts.extensions.map((e) => ({
      name: e.name,
      external: e.external,
      registered: e.registered,
      events: e.events,
      ...(e.errorType ? { error_type: e.errorType } : {}),
    }));
  }
  if (end.ok) {
    if (!facts.result) throw new Error('a succeeded run without a result');
    record.result = facts.result;
  } else record.error = errorPart(end.error);
  return record;
}
