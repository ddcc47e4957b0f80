// How a single job ended, from its run record: the result (inline or as a {url} pointer), or its error thrown again.
import { createHash } from 'node:crypto';
import { type JsonTextError, parseJsonText } from '../../lib/json-text.js';
import type { JsonLogger } from '../../lib/logger.js';
import {
  InvalidRunRecordError,
  parseRunRecordJson,
  type RunObject,
  type RunRecord,
  recordUrlFor,
} from '../../lib/run-record.js';
import { namedError, ResultMismatchError, ResultMissingError, ResultNotJsonError } from './errors.js';
import { isSameJob, type JobView } from './job.js';
import type { OutputReader } from './reader.js';
import { failureWithoutRecord } from './reasons.js';

export interface OutcomeOptions {
  reader: OutputReader;
  maxInlineResult: number;
  log: JsonLogger;
}

/** What a result too large to hand on inline becomes (as Cirrus v2 passes large payloads). */
export interface Pointer {
  url: string;
}

export type SingleOutcome =
  | { kind: 'result'; value: unknown; chars: number }
  | { kind: 'pointer'; value: Pointer };

// A record is a few KB; anything much larger is not one, and is not read into memory.
const MAX_RECORD_BYTES = 1024 * 1024;

/** The record at `url`, parsed; undefined when there is none. */
export async function readRecord(reader: OutputReader, url: string): Promise<RunRecord | undefined> {
  const got = await reader.get(url, MAX_RECORD_BYTES);
  if (got === undefined) return undefined;
  if ('tooLarge' in got)
    throw new InvalidRunRecordError(
      `run record ${url}: is ${got.bytes} bytes, more than a record can be (1 MiB)`,
    );
  return parseRunRecordJson(got.body.toString('utf8'), url);
}

/** The error the function raised, under the record's errorType (so a Catch on `ValueError` matches). */
export function recordedError(record: RunRecord): Error {
  const e = record.error!;
  return namedError(e.errorType, e.errorMessage, e.stackTrace);
}

/**
 * The result at `urlOut`, checked against what the record says was written (`described`; undefined for a job
 * without a record). Its JSON text longer than `maxInlineResult` characters comes back as `{url}`.
 */
export async function readResult(
  options: OutcomeOptions,
  urlOut: string,
  described: RunObject | undefined,
): Promise<SingleOutcome> {
  const limit = options.maxInlineResult;
  // A character is at most 4 bytes of UTF-8: a text of more than 4 × limit bytes cannot fit, so it is not read.
  const got = await options.reader.get(urlOut, limit * 4);
  if (got === undefined)
    throw new ResultMissingError(
      described
        ? `the run record says the function succeeded, but there is no result at ${urlOut}`
        : `the job succeeded but left neither a run record nor a result at ${urlOut}`,
    );
  const bytes = 'tooLarge' in got ? got.bytes : got.body.length;
  if (described && bytes !== described.bytes)
    throw new ResultMismatchError(`${urlOut} has ${bytes} bytes; its run record says ${described.bytes}`);
  if ('tooLarge' in got) return { kind: 'pointer', value: { url: urlOut } };
  if (described) {
    const sha = createHash('sha256').update(got.body).digest('hex');
    if (sha !== described.sha256)
      throw new ResultMismatchError(`${urlOut} has SHA-256 ${sha}; its run record says ${described.sha256}`);
  }
  const text = got.body.toString('utf8');
  if (text.length > limit) return { kind: 'pointer', value: { url: urlOut } };
  try {
    return { kind: 'result', value: parseJsonText(text), chars: text.length };
  } catch (err) {
    throw new ResultNotJsonError(`the result at ${urlOut} is ${(err as JsonTextError).message}`);
  }
}

/** The outcome of a single (non-array) job whose output is `urlOut`: returns the result or throws its error. */
export async function singleOutcome(
  job: JobView,
  urlOut: string,
  options: OutcomeOptions,
): Promise<SingleOutcome> {
  const recordUrl = recordUrlFor(urlOut);
  let record = await readRecord(options.reader, recordUrl);
  if (record?.batch && !isSameJob(job, record.batch.job_id)) {
    // An earlier run with the same url_out (a re-run workflow) left it; this job never got as far as writing one.
    options.log.warn('run record of another job ignored', {
      job_id: job.jobId,
      record_job_id: record.batch.job_id,
      record_url: recordUrl,
    });
    record = undefined;
  }
  if (record?.status === 'failed') throw recordedError(record);
  if (record?.status === 'succeeded') return readResult(options, urlOut, record.result);
  // A runner older than run records writes none: the job's own success is then the word for it.
  if (job.status === 'SUCCEEDED') return readResult(options, urlOut, undefined);
  throw failureWithoutRecord(job);
}
