// Where downloaded code and layers are extracted: a cache keyed by CodeSha256 shared by runs, or a per-run temp dir.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExtractResult, extractZip, LAMBDA_UNZIPPED_LIMIT } from '../archive/extract.js';

export type ArchiveKind = 'code' | 'layer';

export interface Store {
  readonly dir: string;
  readonly persistent: boolean;
  /** Removes the per-run folder (no-op for the shared cache). */
  cleanup(): Promise<void>;
}

/** Opens the cache at `cacheDir`, or a fresh temp folder when the cache is off. */
export async function openStore(cacheDir: string, useCache: boolean): Promise<Store> {
  if (useCache) {
    await mkdir(cacheDir, { recursive: true });
    return { dir: cacheDir, persistent: true, cleanup: async () => {} };
  }
  const dir = await mkdtemp(join(tmpdir(), 'run-lambda-'));
  return { dir, persistent: false, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The folder name for an archive: kind plus the hex of its SHA-256 (base64 has `/`, which cannot be in a name). */
export function folderFor(kind: ArchiveKind, sha256Base64: string): string {
  return `${kind}-${Buffer.from(sha256Base64, 'base64').toString('hex')}`;
}

/**
 * Extractions run one at a time and share Lambda's 250 MB unzipped budget for code plus layers (downloads
 * still overlap). Archives already in the cache passed the check when they were extracted, and Lambda
 * itself enforces the total when a function is deployed, so they are not counted again.
 */
export function sharedExtractor(limit = LAMBDA_UNZIPPED_LIMIT) {
  let used = 0;
  let queue: Promise<unknown> = Promise.resolve();
  return (zipPath: string, dir: string): Promise<ExtractResult> => {
    const run = queue.then(async () => {
      const result = await extractZip(zipPath, dir, { maxBytes: limit - used });
      used += result.bytes;
      return result;
    });
    queue = run.catch(() => {});
    return run;
  };
}

export interface Materialized {
  dir: string;
  /** False when the folder was already in the cache (nothing was downloaded). */
  downloaded: boolean;
}

/**
 * The extracted folder for an archive: from the cache when present, else downloaded by `download` to a temp
 * zip and extracted. Another runner may be doing the same at the same moment: each extracts to its own temp
 * folder and renames it into place; when the rename loses the race, the winner's folder is used.
 */
export async function materialize(
  store: Store,
  kind: ArchiveKind,
  sha256Base64: string,
  download: (zipPath: string) => Promise<unknown>,
  extract: (zipPath: string, dir: string) => Promise<ExtractResult>,
): Promise<Materialized> {
  const dir = join(store.dir, folderFor(kind, sha256Base64));
  if (existsSync(dir)) return { dir, downloaded: false };
  const zipPath = join(
    store.dir,
    `.${folderFor(kind, sha256Base64)}.${process.pid}-${randomBytes(4).toString('hex')}.zip`,
  );
  try {
    await download(zipPath);
    await extract(zipPath, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(dir))) throw err;
  } finally {
    await rm(zipPath, { force: true });
  }
  return { dir, downloaded: true };
}
