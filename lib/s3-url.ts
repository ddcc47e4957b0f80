// s3://bucket/key URLs: parsing, formatting, and the `_out.json` naming Cirrus uses for results.

export interface S3Location {
  bucket: string;
  key: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/key`; throws a TypeError naming what is wrong. */
export function parseS3Url(url: string): S3Location {
  if (!url.startsWith('s3://')) throw new TypeError(`not an s3:// URL: ${url}`);
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw new TypeError(`invalid bucket name in ${url}`);
  if (key === '') throw new TypeError(`missing object key in ${url}`);
  return { bucket, key };
}

/**
 * True when a key holds a `.` or `..` segment (`a/../b`, `./a`, `a/..`). S3 keeps such a key as it is, but an HTTP
 * stack, a local cache or a sync tool may resolve it to another place: a caller's key with one is refused.
 */
export function hasDotSegment(key: string): boolean {
  return key.split('/').some((s) => s === '.' || s === '..');
}

export function isS3Url(url: string): boolean {
  return url.startsWith('s3://');
}

export function formatS3Url(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

/** `…/name.json` → `…/name_out.json`; a name without `.json` gets `_out.json` appended. */
export function outputKeyFor(key: string): string {
  return key.endsWith('.json') ? `${key.slice(0, -'.json'.length)}_out.json` : `${key}_out.json`;
}

/** The same for a whole URL (any scheme: s3://, file://, a path). */
export function outputUrlFor(url: string): string {
  return outputKeyFor(url);
}
