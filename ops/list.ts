// `lambda-batch list [--function f] [--since t]`: the jobs the dispatcher submitted, newest first, from its dispatch
// records (`<prefix><function>/<id>.dispatch.json`, lib/payload-keys.ts). A request with neither an idempotency key
// nor an SQS message id leaves no record, so it is not listed. Each function's folder is listed one level deep
// (Delimiter /), so the objects of item sets under it are never walked.
import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidDispatchRecordError, parseDispatchRecord } from '../lib/dispatch-record.js';
import { parseJsonText } from '../lib/json-text.js';
import { functionParts } from '../lib/lambda-arn.js';
import { DISPATCH_RECORD_SUFFIX, functionPrefix } from '../lib/payload-keys.js';
import { mapBounded } from '../lib/pool.js';
import type { Invocation } from './args.js';
import type { Clients } from './aws.js';
import type { OpsConfig } from './config.js';
import { aws, UsageError } from './errors.js';
import { type Io, iso } from './io.js';
import { readText } from './objects.js';

const READS_IN_FLIGHT = 16;
const DEFAULT_PREFIX = 'batch/';

export interface ListedJob {
  job_id: string | null;
  function: string;
  created_at: string;
  status: 'submitting' | 'submitted';
  job_name: string;
  job_queue: string;
  url: string;
  url_out: string;
  item_count: number | null;
  array_size: number | null;
  redrive_of: string | null;
  record: string;
}

/** The payload bucket and prefix: flags or environment, else the dispatcher's own settings. */
async function place(config: OpsConfig, clients: Clients): Promise<{ bucket: string; prefix: string }> {
  if (config.bucket) return { bucket: config.bucket, prefix: config.prefix ?? DEFAULT_PREFIX };
  if (!config.dispatcher)
    throw new UsageError(
      "list reads the dispatcher's records: give --bucket (or PAYLOAD_BUCKET), or --dispatcher (or BATCH_DISPATCHER_FUNCTION) to read its settings",
    );
  const { GetFunctionConfigurationCommand } = await import('@aws-sdk/client-lambda');
  const lambda = await clients.lambda(config.dispatcher);
  const fn = await aws(`read the settings of the dispatcher ${config.dispatcher}`, () =>
    lambda.send(new GetFunctionConfigurationCommand({ FunctionName: config.dispatcher })),
  );
  const vars = fn.Environment?.Variables ?? {};
  const bucket = vars.PAYLOAD_BUCKET || vars.CIRRUS_PAYLOAD_BUCKET;
  if (!bucket)
    throw new UsageError(
      `the dispatcher ${config.dispatcher} has no PAYLOAD_BUCKET: it keeps no records to list`,
    );
  return { bucket, prefix: config.prefix ?? (vars.PAYLOAD_PREFIX || DEFAULT_PREFIX) };
}

/** One level under `prefix`: the keys there (with their times) and the folders. */
async function level(s3: S3Client, bucket: string, prefix: string) {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const keys: { key: string; modified: number }[] = [];
  const folders: string[] = [];
  let token: string | undefined;
  do {
    const page = await aws(`list s3://${bucket}/${prefix}`, () =>
      s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      ),
    );
    for (const o of page.Contents ?? [])
      if (o.Key) keys.push({ key: o.Key, modified: o.LastModified?.getTime() ?? 0 });
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { keys, folders };
}

/** The record keys of one function's folder, or of every function's. */
async function recordKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
  fn: string | undefined,
  since?: number,
) {
  const folders =
    fn !== undefined
      ? [functionPrefix(prefix, fn)]
      : (await level(s3, bucket, functionPrefix(prefix))).folders;
  const levels = await mapBounded(folders, READS_IN_FLIGHT, (f) => level(s3, bucket, f));
  // LastModified is whole seconds, and a record is written as its job is made: a second of slack, and the record's
  // own created_at decides.
  const recent = (modified: number) => since === undefined || modified >= since - 1000;
  return levels
    .flatMap((l) => l.keys)
    .filter((k) => k.key.endsWith(DISPATCH_RECORD_SUFFIX) && recent(k.modified))
    .map((k) => k.key);
}

/** A record as a listed job; undefined (with a warning) when it is not a dispatch record. */
async function listed(s3: S3Client, bucket: string, key: string, io: Io): Promise<ListedJob | undefined> {
  const url = `s3://${bucket}/${key}`;
  const text = await readText(s3, url);
  if (text === undefined) return undefined;
  try {
    const r = parseDispatchRecord(parseJsonText(text), url);
    const a = r.answer;
    return {
      job_id: a.job_id ?? null,
      function: key.split('/').at(-2) ?? '',
      created_at: iso(r.created_at),
      status: r.status,
      job_name: a.job_name,
      job_queue: a.job_queue,
      url: a.url,
      url_out: a.url_out,
      item_count: a.item_count ?? null,
      array_size: a.array_size ?? null,
      redrive_of: a.redrive_of ?? null,
      record: url,
    };
  } catch (err) {
    if (!(err instanceof InvalidDispatchRecordError) && (err as Error).name !== 'JsonTextError') throw err;
    io.err(`skipped ${url}: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** Runs the command: the jobs, newest first, at most --limit. */
export async function listJobs(inv: Invocation, config: OpsConfig, clients: Clients, io: Io) {
  const { bucket, prefix } = await place(config, clients);
  const fn = inv.function === undefined ? undefined : functionPartsOrUsage(inv.function);
  const s3 = await clients.s3();
  const keys = await recordKeys(s3, bucket, prefix, fn, inv.since);
  const jobs = (await mapBounded(keys, READS_IN_FLIGHT, (k) => listed(s3, bucket, k, io)))
    .filter(
      (j): j is ListedJob =>
        j !== undefined && (inv.since === undefined || Date.parse(j.created_at) >= inv.since),
    )
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, inv.limit);
  return { bucket, prefix, jobs };
}

function functionPartsOrUsage(ref: string): string {
  try {
    return functionParts(ref).name;
  } catch {
    throw new UsageError(
      `--function: ${JSON.stringify(ref.slice(0, 100))} is not a Lambda function name or ARN`,
    );
  }
}

/** The jobs as lines for people. */
export function listLines(r: Awaited<ReturnType<typeof listJobs>>): string[] {
  if (r.jobs.length === 0) return [`no dispatch records under s3://${r.bucket}/${r.prefix}`];
  return r.jobs.map((j) => {
    const what = j.item_count === null ? 'one payload' : `${j.item_count} items, ${j.array_size} children`;
    const redrive = j.redrive_of ? `, redrives ${j.redrive_of}` : '';
    return `${j.created_at}  ${j.job_id ?? '(submitting)'}  ${j.function}  ${j.job_name}  ${what}${redrive}`;
  });
}
