// What the cache knows of a layer version: its CodeSha256, kept beside the extracted layers. A layer version never
// changes once published (new content is a new version, and version numbers are not reused), so a warm run finds a
// cached layer by its ARN without asking GetLayerVersion; the extracted tree is still checked against its manifest.
// Keyed by the Lambda endpoint too: local emulators (moto, LocalStack) hand out the same ARNs in every instance.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The name of the file that records layer version `arn` of `endpoint` (hashed: an ARN has `:` and may be long). */
export function layerIndexName(arn: string, endpoint = ''): string {
  return `.layer-version-${createHash('sha256').update(`${endpoint}\n${arn}`).digest('hex')}`;
}

/** The CodeSha256 (base64) recorded for `arn`, or undefined when none is, or what is there is not a SHA-256. */
export function knownLayerSha(cacheDir: string, arn: string, endpoint?: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(cacheDir, layerIndexName(arn, endpoint)), 'utf8');
  } catch {
    return undefined;
  }
  const ok = /^[A-Za-z0-9+/]{43}=$/.test(text) && Buffer.from(text, 'base64').length === 32;
  return ok ? text : undefined;
}

/** Records `sha256Base64` for `arn`, atomically (a reader sees the old file, the new one, or none). */
export async function rememberLayerSha(
  cacheDir: string,
  arn: string,
  sha256Base64: string,
  endpoint?: string,
): Promise<void> {
  const file = join(cacheDir, layerIndexName(arn, endpoint));
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, sha256Base64);
    await rename(tmp, file);
  } catch {
    // Only a later run's shortcut is lost: it asks GetLayerVersion, as without the record.
    await rm(tmp, { force: true }).catch(() => {});
  }
}
