// Where a single run's record goes: --record when given; else beside the result (`.json` → `.run.json`); none for
// stdout, a FIFO or a device. Never onto the payload: the input is not overwritten.
import { resolve } from 'node:path';
import { recordUrlFor } from '../../lib/run-record.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PayloadSource } from '../payload/source.js';
import { type OutputTarget, parseOutputUrl } from '../payload/target.js';
import type { RecordPlace } from './write.js';

/** --record's value as a place: s3:// or a path (never stdout: the result may be there). */
export function parseRecordUrl(url: string, cwd: string): RecordPlace {
  if (url === '-') throw new UsageError('--record must name a place (s3://bucket/key or a path), not stdout');
  const t = parseOutputUrl(url, cwd);
  if (t.kind === 'stdout') throw new UsageError('--record must name a place, not stdout');
  return t;
}

export function recordPlace(
  target: OutputTarget,
  besideOk: boolean,
  record: RecordPlace | undefined,
  source: PayloadSource,
  log: Logger,
): RecordPlace | undefined {
  let place: RecordPlace | undefined = record;
  if (!place && besideOk && target.kind === 's3') place = { kind: 's3', url: recordUrlFor(target.url) };
  if (!place && besideOk && target.kind === 'file') place = { kind: 'file', path: recordUrlFor(target.path) };
  if (!place) return undefined;
  const sameAsPayload =
    (place.kind === 's3' && source.kind === 's3' && place.url === source.url) ||
    (place.kind === 'file' && source.kind === 'file' && resolve(place.path) === resolve(source.path));
  if (sameAsPayload) {
    log.warn('no run record: its place is the payload itself, and the input is never overwritten');
    return undefined;
  }
  return place;
}
