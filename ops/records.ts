// Run records as lambda-batch finds them: at a URL the user gave (a record, or an item set's output prefix, whose
// records name the job), or beside a job's output. What is not a run record (lib/run-record.ts) is NotOursError.
import type { S3Client } from '@aws-sdk/client-s3';
import { isItemSetUrl, parseItemName } from '../lib/item-set.js';
import { InvalidRunRecordError, parseRunRecordJson, type RunRecord } from '../lib/run-record.js';
import { NotOursError } from './errors.js';
import { listNames } from './items.js';
import { readText } from './objects.js';

/** The record at `url`, checked; undefined when there is none; NotOursError when the object is not a run record. */
export async function readRecordAt(s3: S3Client, url: string): Promise<RunRecord | undefined> {
  const text = await readText(s3, url);
  if (text === undefined) return undefined;
  try {
    return parseRunRecordJson(text, url);
  } catch (err) {
    if (err instanceof InvalidRunRecordError)
      throw new NotOursError(`${url} is not a run record of lambda-as-batch (${err.message})`, {
        cause: err,
      });
    throw err;
  }
}

/** The record the user named: at `url`, or the first item's record under a set's output prefix. */
export async function recordOfUrl(
  s3: S3Client,
  url: string,
): Promise<{ url: string; record: RunRecord; isSet: boolean }> {
  if (isItemSetUrl(url)) {
    const name = (await listNames(s3, url)).find((n) => parseItemName(n)?.part === 'record');
    if (name === undefined) throw new NotOursError(`there are no run records under ${url}`);
    const record = await readRecordAt(s3, `${url}${name}`);
    if (!record) throw new NotOursError(`${url}${name} is gone`);
    return { url: `${url}${name}`, record, isSet: true };
  }
  const record = await readRecordAt(s3, url);
  if (!record) throw new NotOursError(`there is no run record at ${url}`);
  return { url, record, isSet: false };
}
