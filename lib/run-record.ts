// The run record: where it goes beside an output, and its one reader and writer. The reader checks a record field by
// field, naming the place and the field of the first thing wrong; what the runner writes goes through it too
// (formatRunRecord), so both sides hold one contract. No AWS SDK here: the runner writes records with this module and
// post-batch reads them.
import { BATCH_JOB_ID } from './batch-job-id.js';
import { ItemParts, isItemSetUrl } from './item-set.js';
import { type JsonTextError, parseJsonText } from './json-text.js';
import {
  type RunError,
  type RunExtension,
  type RunObject,
  type RunRecord,
  type RunStatus,
  RunStatuses,
  type RunTimings,
} from './run-record-types.js';

/** The record's shape, for the code that builds and reads records. */
export type { RunError, RunObject, RunRecord } from './run-record-types.js';

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

/** A record that is not JSON or does not have the contract's shape; the message names the place and the field. */
export class InvalidRunRecordError extends Error {
  override name = 'InvalidRunRecordError';
}

type Obj = Record<string, unknown>;
const SHA256 = /^[0-9a-f]{64}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

class Reader {
  constructor(readonly where: string) {}

  fail(path: string, problem: string): never {
    throw new InvalidRunRecordError(`run record ${this.where}: ${path} ${problem}`);
  }

  show(v: unknown): string {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }

  object(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      this.fail(
        path,
        `must be an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : this.show(v)}`,
      );
    return v as Obj;
  }

  string(o: Obj, key: string, path: string, { nullable = false, empty = false } = {}): string | null {
    const v = o[key];
    if (v === undefined) this.fail(`${path}${key}`, 'is missing');
    if (v === null && nullable) return null;
    if (typeof v !== 'string')
      this.fail(`${path}${key}`, `must be a string${nullable ? ' or null' : ''}, got ${this.show(v)}`);
    if (v === '' && !empty) this.fail(`${path}${key}`, 'must not be empty');
    return v;
  }

  /** A string or null that a record of an older runner may not have at all (read as null). */
  optional(o: Obj, key: string, path: string): string | null {
    return o[key] === undefined ? null : this.string(o, key, path, { nullable: true });
  }

  int(o: Obj, key: string, path: string, min: number, max: number, nullable = false): number | null {
    const v = o[key];
    if (v === undefined) this.fail(`${path}${key}`, 'is missing');
    if (v === null && nullable) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      this.fail(`${path}${key}`, `must be a whole number from ${min} to ${max}, got ${this.show(v)}`);
    return v;
  }

  sha(o: Obj, key: string, path: string, nullable = false): string | null {
    const v = this.string(o, key, path, { nullable });
    if (v !== null && !SHA256.test(v))
      this.fail(`${path}${key}`, `must be 64 lowercase hex digits, got ${this.show(v)}`);
    return v;
  }

  time(o: Obj, key: string, nullable: boolean): string | null {
    const v = this.string(o, key, 'timings.', { nullable });
    if (v !== null && (!ISO.test(v) || Number.isNaN(Date.parse(v))))
      this.fail(`timings.${key}`, `must be an ISO 8601 time, got ${this.show(v)}`);
    return v;
  }
}

function runObject(r: Reader, v: unknown, path: string): RunObject {
  const o = r.object(v, path);
  return {
    url: r.string(o, 'url', `${path}.`) as string,
    bytes: r.int(o, 'bytes', `${path}.`, 0, Number.MAX_SAFE_INTEGER) as number,
    sha256: r.sha(o, 'sha256', `${path}.`) as string,
  };
}

function image(r: Reader, v: unknown): { uri: string; digest: string | null } {
  const o = r.object(v, 'function.image');
  return {
    uri: r.string(o, 'uri', 'function.image.') as string,
    digest: r.string(o, 'digest', 'function.image.', { nullable: true }),
  };
}

function runError(r: Reader, v: unknown, path: string): RunError {
  const o = r.object(v, path === '' ? 'the error part' : path);
  const p = path === '' ? '' : `${path}.`;
  const trace = o.stackTrace;
  if (!Array.isArray(trace) || trace.some((l) => typeof l !== 'string'))
    r.fail(`${p}stackTrace`, `must be an array of strings, got ${r.show(trace)}`);
  return {
    errorType: r.string(o, 'errorType', p) as string,
    errorMessage: r.string(o, 'errorMessage', p, { empty: true }) as string,
    stackTrace: trace as string[],
  };
}

function extensions(r: Reader, v: unknown): RunExtension[] {
  if (!Array.isArray(v)) r.fail('extensions', `must be an array, got ${r.show(v)}`);
  return v.map((e: unknown, i: number) => {
    const p = `extensions[${i}].`;
    const o = r.object(e, `extensions[${i}]`);
    for (const key of ['external', 'registered'] as const)
      if (typeof o[key] !== 'boolean') r.fail(`${p}${key}`, `must be true or false, got ${r.show(o[key])}`);
    const events = o.events;
    if (!Array.isArray(events) || events.some((x) => typeof x !== 'string'))
      r.fail(`${p}events`, `must be an array of strings, got ${r.show(events)}`);
    return {
      name: r.string(o, 'name', p) as string,
      external: o.external as boolean,
      registered: o.registered as boolean,
      events: events as string[],
      ...(o.error_type === undefined ? {} : { error_type: r.string(o, 'error_type', p) as string }),
    };
  });
}

function timings(r: Reader, v: unknown): RunTimings {
  const o = r.object(v, 'timings');
  const t: RunTimings = {
    started: r.time(o, 'started', false) as string,
    prepared: r.time(o, 'prepared', true),
    initialized: r.time(o, 'initialized', true),
    finished: r.time(o, 'finished', false) as string,
  };
  let last = { key: 'started', at: Date.parse(t.started) };
  for (const key of ['prepared', 'initialized', 'finished'] as const) {
    const v1 = t[key];
    if (v1 === null) continue;
    const at = Date.parse(v1);
    if (at < last.at) r.fail(`timings.${key}`, `(${v1}) is before timings.${last.key}`);
    last = { key, at };
  }
  return t;
}

/**
 * Checks a parsed record against the contract and returns it typed; `where` (its URL) goes into every message.
 * Unknown keys are kept: a newer runner may add fields.
 * @example parseRunRecord(JSON.parse(text), 's3://bucket/k_out.run.json').status
 */
export function parseRunRecord(raw: unknown, where = 'record'): RunRecord {
  const r: Reader = new Reader(where);
  const o = r.object(raw, 'the record');
  const status = o.status;
  if (!(RunStatuses as readonly unknown[]).includes(status))
    r.fail('status', `must be "succeeded" or "failed", got ${r.show(status)}`);
  const exit_code = r.int(o, 'exit_code', '', 0, 255) as number;
  if (status === 'succeeded' && exit_code !== 0)
    r.fail('exit_code', `must be 0 when succeeded, got ${exit_code}`);
  if (status === 'failed' && exit_code === 0) r.fail('exit_code', 'must not be 0 when failed');

  const fn = r.object(o.function, 'function');
  const runner = r.object(o.runner, 'runner');
  const layers = o.layers;
  if (!Array.isArray(layers)) r.fail('layers', `must be an array, got ${r.show(layers)}`);
  const record: RunRecord = {
    ...o,
    status: status as RunStatus,
    exit_code,
    request_id: r.string(o, 'request_id', '', { nullable: true }),
    function: {
      arn: r.string(fn, 'arn', 'function.', { nullable: true }),
      version: r.string(fn, 'version', 'function.', { nullable: true }),
      runtime: r.string(fn, 'runtime', 'function.', { nullable: true }),
      handler: r.string(fn, 'handler', 'function.', { nullable: true }),
      code_sha256: r.sha(fn, 'code_sha256', 'function.', true),
      architecture: r.optional(fn, 'architecture', 'function.'),
      ...(fn.image === undefined || fn.image === null ? {} : { image: image(r, fn.image) }),
    },
    layers: layers.map((l: unknown, i: number) => {
      const lo = r.object(l, `layers[${i}]`);
      return {
        arn: r.string(lo, 'arn', `layers[${i}].`) as string,
        code_sha256: r.sha(lo, 'code_sha256', `layers[${i}].`) as string,
      };
    }),
    runner: {
      version: r.string(runner, 'version', 'runner.') as string,
      image_runtime: r.string(runner, 'image_runtime', 'runner.', { nullable: true }),
      architecture: r.optional(runner, 'architecture', 'runner.'),
    },
    payload: o.payload === null ? null : runObject(r, o.payload, 'payload'),
    timings: timings(r, o.timings),
  };
  delete record.error;
  delete record.result;
  delete record.batch;
  delete record.redrive_of;
  if (o.redrive_of !== undefined && o.redrive_of !== null) {
    const id = r.string(o, 'redrive_of', '') as string;
    if (!BATCH_JOB_ID.test(id)) r.fail('redrive_of', `must be a Batch job id, got ${r.show(id)}`);
    record.redrive_of = id;
  }
  delete record.extensions;
  if (o.extensions !== undefined && o.extensions !== null) record.extensions = extensions(r, o.extensions);
  if (o.batch !== undefined && o.batch !== null) {
    const b = r.object(o.batch, 'batch');
    record.batch = {
      job_id: r.string(b, 'job_id', 'batch.') as string,
      attempt: r.int(b, 'attempt', 'batch.', 1, 10) as number,
      array_index: r.int(b, 'array_index', 'batch.', 0, 9_999, true),
    };
  }
  if (status === 'failed') {
    if (o.error === undefined || o.error === null) r.fail('error', 'is required when failed');
    if (o.result !== undefined && o.result !== null) r.fail('result', 'must be absent when failed');
    record.error = runError(r, o.error, 'error');
  } else {
    if (o.result === undefined || o.result === null) r.fail('result', 'is required when succeeded');
    if (o.error !== undefined && o.error !== null) r.fail('error', 'must be absent when succeeded');
    record.result = runObject(r, o.result, 'result');
  }
  return record;
}

/** `text` parsed as JSON, or the InvalidRunRecordError that says it is not. */
function jsonOf(text: string, where: string): unknown {
  try {
    return parseJsonText(text);
  } catch (err) {
    throw new InvalidRunRecordError(`run record ${where}: is ${(err as JsonTextError).message}`);
  }
}

/** The same from the record's JSON text (what GetObject returns). */
export function parseRunRecordJson(text: string, where = 'record'): RunRecord {
  return parseRunRecord(jsonOf(text, where), where);
}

/** An item's `<i>.error.json` (the record's error part alone). */
export function parseRunErrorJson(text: string, where = 'error'): RunError {
  return runError(new Reader(where), jsonOf(text, where), '');
}
