// What every container test file shares: the skip when no engine answers, the images and the harness, `docker run`.
// Gap these tests fill (no registry is reachable here): the images are built from images/Dockerfile on
// stand-in bases (test/images/standins), and moto (the harness) is the AWS they reach over host networking.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createBucket } from '../integration/harness/fixtures.js';
import { type Harness, startHarness } from '../integration/harness/index.js';
import { lastLineOf } from '../support/process.js';
import { docker, skipReason } from './docker.js';
import { type BuiltImage, ensureImages, type ImageSet } from './images.js';

/** Why this file's tests are skipped, printed plainly once; undefined when an engine answers. */
export const skip = skipReason();
if (skip) {
  process.stderr.write(`image tests SKIPPED: ${skip}\n`);
  test(`container tests (skipped: ${skip})`, { skip }, () => {});
}

/**
 * Under npm test the images are built before any file starts and this setup only finds them; a file started on its
 * own builds them here, which on a cold cache takes minutes (x86_64 stand-ins ~4 min and images ~2 min on 2 cores,
 * with the emulated arm64 chain, ~6 min, beside them).
 */
export const BUILD_TIMEOUT_MS = 45 * 60_000;

export function images(): Promise<ImageSet> {
  return ensureImages();
}

/**
 * A test file's setup. before() (nothing when the file is skipped) builds or finds the images, starts a harness,
 * makes `bucket` if given and hands both to `ready`; after() stops the harness.
 */
export function withImagesAndHarness(
  opts: { bucket?: string },
  ready: (started: { h: Harness; set: ImageSet }) => Promise<void> | void,
): void {
  let h: Harness | undefined;
  before(
    async () => {
      if (skip) return;
      const set = await images();
      h = await startHarness();
      if (opts.bucket) await createBucket(h, opts.bucket);
      await ready({ h, set });
    },
    { timeout: BUILD_TIMEOUT_MS },
  );
  after(() => h?.stop());
}

/**
 * A test file's setup without a harness. before() (nothing when the file is skipped) builds or finds the images, makes
 * a work folder (its name starting `prefix`) and hands both to `ready`; after() removes the folder.
 */
export function withImagesAndWork(
  prefix: string,
  ready: (started: { set: ImageSet; work: string }) => void,
): void {
  let work: string | undefined;
  before(
    async () => {
      if (skip) return;
      const set = await images();
      work = await mkdtemp(join(tmpdir(), prefix));
      ready({ set, work });
    },
    { timeout: BUILD_TIMEOUT_MS },
  );
  after(() => (work ? rm(work, { recursive: true, force: true }) : undefined));
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  user?: string;
  readOnly?: boolean;
  tmpfs?: string[];
  volumes?: string[];
  name?: string;
  entrypoint?: string;
  timeoutMs?: number;
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  lastLine: string;
}

/** `docker run --rm --network host` (never a bridge): the harness's front on 127.0.0.1 is the container's too. */
export async function runIn(
  image: BuiltImage | string,
  command: string[],
  opts: RunOptions = {},
): Promise<Ran> {
  const args = ['run', '--rm', '--network', 'host'];
  if (opts.name) args.push('--name', opts.name);
  if (opts.user) args.push('--user', opts.user);
  if (opts.readOnly) args.push('--read-only');
  for (const t of opts.tmpfs ?? []) args.push('--tmpfs', t);
  for (const v of opts.volumes ?? []) args.push('--volume', v);
  if (opts.entrypoint !== undefined) args.push('--entrypoint', opts.entrypoint);
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) args.push('--env', `${k}=${v}`);
  args.push(typeof image === 'string' ? image : (image.tags[0] as string), ...command);
  const r = await docker(args, { timeoutMs: opts.timeoutMs ?? 120_000 });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, lastLine: lastLineOf(r.stderr) };
}

export const containerName = (what: string) => `run-lambda-test-${what}-${randomBytes(4).toString('hex')}`;

/** The line each test prints: which image, on which base. */
export function ranOn(image: BuiltImage): string {
  return `${image.tags[0]} built on ${image.ranOn}`;
}
