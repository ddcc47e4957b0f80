// Where downloaded code and layers are extracted: a cache keyed by CodeSha256 shared by runs, or a per-run temp dir.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExtractResult, extractZip, LAMBDA_UNZIPPED_LIMIT } from '../archive/extract.js';
import { FunctionPrepareError, RunnerError } from '../errors.js';
import { type HeldLock, lockOrWait } from './cache-lock.js';
import { checkManifest, takeManifest } from './cache-manifest.js';

export type ArchiveKind = 'code' | 'layer';

/** The folder code and layers are extracted into: the cache shared by runs, or (--no-cache) the run's own. */
export interface CodeCache {
  readonly dir: string;
  readonly persistent: boolean;
  /** Removes the per-run folder (no-op for the shared cache). */
  cleanup(): Promise<void>;
}

/** Opens the cache at `cacheDir`, or a fresh temp folder when the cache is off. */
export async function openCodeCache(cacheDir: string, useCache: boolean): Promise<CodeCache> {
  if (useCache) {
    await mkdir(cacheDir, { recursive: true }).catch((err: Error) => {
      throw new FunctionPrepareError(
        `cannot use the cache folder ${cacheDir}: ${err.message} (choose another with --cache-dir, or pass --no-cache)`,
        { cause: err },
      );
    });
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

export interface MaterializeDeps {
  /** What is being put in place, for messages: `code of my-fn`, `layer my-layer:3`. */
  label?: string;
  /** Told when another runner is already downloading the same archive and this one waits for it. */
  onWait?: (holder: string) => void;
  /** Told when a cache entry is no longer what was extracted (an earlier run changed it) and is redone. */
  onChanged?: (why: string) => void;
  signal?: AbortSignal;
}

/** The warning for an entry that is redone because it changed. */
export function changedNote(label: string, why: string): string {
  return `the cached ${label} is not what was extracted (${why}, by an earlier run?); extracting it again`;
}

/** The manifest of the cache entry `dir` (runner/aws/cache-manifest.ts): written last, so it also says "complete". */
export const manifestOf = (dir: string) => `${dir}.manifest`;

/**
 * The extracted folder for an archive: from the cache when present and unchanged, else downloaded by
 * `download` to a temp zip and extracted. Runners sharing the cache take a lock per archive, so only one
 * downloads a new version while the others wait for its folder. Should two still work at once (a stale lock
 * taken over), each extracts to its own temp folder and renames it into place; when the rename loses, the
 * winner's is used. A cached entry is used only when it is exactly what was extracted (its manifest: every
 * entry's inode, mode, size and change time, new entries included): a function may have written into its
 * task root, and modes do not stop root, so a changed entry is removed and extracted again.
 */
export async function materialize(
  cache: CodeCache,
  kind: ArchiveKind,
  sha256Base64: string,
  download: (zipPath: string) => Promise<unknown>,
  extract: (zipPath: string, dir: string) => Promise<ExtractResult>,
  deps: MaterializeDeps = {},
): Promise<Materialized> {
  const name = folderFor(kind, sha256Base64);
  const dir = join(cache.dir, name);
  const manifest = manifestOf(dir);
  let told = false;
  const tell = deps.onChanged;
  deps = {
    ...deps,
    onChanged: (why) => {
      if (!told) tell?.(why);
      told = true;
    },
  };
  let lock: HeldLock | undefined;
  if (cache.persistent) {
    if (intact(dir, deps)) return { dir, downloaded: false };
    const got = await lockOrWait(join(cache.dir, `.${name}.lock`), {
      ready: () => existsSync(manifest),
      ...deps,
    });
    // Whoever held the lock just extracted it: still checked, since its function may already be running.
    if (got.kind === 'ready' && intact(dir, deps)) return { dir, downloaded: false };
    lock =
      got.kind === 'held'
        ? got.lock
        : await lockOrWait(join(cache.dir, `.${name}.lock`), { ready: () => false, ...deps }).then((again) =>
            again.kind === 'held' ? again.lock : undefined,
          );
    await removeLeftovers(cache.dir, name);
  }
  const zipPath = join(cache.dir, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.zip`);
  try {
    if (cache.persistent) {
      // The previous holder may have finished between our last look and taking the lock.
      if (intact(dir, deps)) return { dir, downloaded: false };
      await discard(cache.dir, name);
    }
    await download(zipPath);
    await extract(zipPath, dir);
    if (cache.persistent) await writeManifest(cache.dir, name, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(dir)) return { dir, downloaded: true };
    if (err instanceof RunnerError || code === undefined) throw err;
    // Our own disk (full, read-only, no permission): the function cannot be prepared here, exit 3.
    throw new FunctionPrepareError(
      `could not put the ${deps.label ?? name} into ${cache.dir}: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    await rm(zipPath, { force: true });
    await lock?.release();
  }
  return { dir, downloaded: true };
}

/** True when `dir` and its manifest exist and the tree is unchanged; a changed tree is reported. */
function intact(dir: string, deps: MaterializeDeps): boolean {
  let text: string;
  try {
    text = readFileSync(manifestOf(dir), 'utf8');
  } catch {
    return false;
  }
  const why = checkManifest(dir, text);
  if (why === undefined) return true;
  deps.onChanged?.(why);
  return false;
}

/** Removes an entry that may not be used (changed, or left without a manifest): manifest first, then the folder. */
async function discard(cacheDir: string, name: string): Promise<void> {
  const dir = join(cacheDir, name);
  await rm(manifestOf(dir), { force: true });
  if (!existsSync(dir)) return;
  // Renamed away first, so the name is free at once even if removing a large tree takes a while.
  const aside = join(cacheDir, `.${name}.stale-${randomBytes(4).toString('hex')}`);
  await rename(dir, aside);
  await rm(aside, { recursive: true, force: true });
}

async function writeManifest(cacheDir: string, name: string, dir: string): Promise<void> {
  const tmp = join(cacheDir, `.${name}.manifest-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(tmp, takeManifest(dir));
  await rename(tmp, manifestOf(dir));
}

/**
 * Temp zips and half-extracted folders of `name` left by a runner that was killed (SIGKILL, a lost host):
 * whoever holds the entry's lock is the only one writing them, so the rest are garbage.
 */
async function removeLeftovers(cacheDir: string, name: string): Promise<void> {
  const lockName = `.${name}.lock`;
  const mine = (await readdir(cacheDir)).filter((f) => f.startsWith(`.${name}.`) && f !== lockName);
  await Promise.all(mine.map((f) => rm(join(cacheDir, f), { recursive: true, force: true })));
}
