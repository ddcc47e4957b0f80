// The images the container tests run: every matrix entry built from images/Dockerfile on its stand-in base.
// `node --import tsx test/images/images.ts` builds them all (what .ci/run does before npm test) and prints the
// build times and sizes; the tests call ensureImages(), which finds them in the engine's cache.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ImageEntry, readMatrix, repoRoot } from '../../images/matrix.mjs';
import { run } from './exec.js';
import { ensureStandins, entryKey, type StandinSet } from './standins.js';

export const TEST_REPO = 'run-lambda-test';

export interface BuiltImage extends ImageEntry {
  tags: string[];
  /** the base it was built on (a stand-in tag) */
  base: string;
  /** what that base is, for the tests' "ran on" lines */
  ranOn: string;
  seconds: number;
  bytes: number;
  /** the image's id (sha256:…), which another build's tag cannot move */
  id: string;
}

export interface ImageSet {
  standins: StandinSet;
  images: BuiltImage[];
  /** the image of `<flavour>:<runtime>` */
  get(flavour: string, runtime: string): BuiltImage;
  seconds: number;
}

const root = fileURLToPath(repoRoot);

/** One builder at a time on the engine (test files run two at once): a lock folder, waited for. */
async function withLock<T>(f: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), 'run-lambda-test-images.lock');
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`${lock} is held for over an hour; remove it if no build runs`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await f();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

let cached: Promise<ImageSet> | undefined;

/** Builds (or finds cached) the stand-ins and every image of the matrix on them. */
export function ensureImages(opts: { echo?: boolean } = {}): Promise<ImageSet> {
  cached ??= withLock(() => build(opts));
  return cached;
}

async function build(opts: { echo?: boolean }): Promise<ImageSet> {
  const started = Date.now();
  if (!existsSync(join(root, 'dist/run-lambda-aws.mjs'))) {
    await run('npm', ['run', 'build', '--silent'], { cwd: root, what: 'npm run build' });
  }
  const standins = await ensureStandins(opts);
  const basesFile = join(tmpdir(), `run-lambda-test-bases-${process.pid}.json`);
  const summaryFile = join(tmpdir(), `run-lambda-test-summary-${process.pid}.json`);
  writeFileSync(basesFile, JSON.stringify({ node: standins.node, bases: standins.bases }));
  try {
    await run(
      process.execPath,
      [
        'images/build.mjs',
        '--repo',
        TEST_REPO,
        '--bases',
        basesFile,
        '--summary',
        summaryFile,
        '--no-npm-build',
      ],
      { cwd: root, echo: opts.echo, what: 'node images/build.mjs (on the stand-ins)' },
    );
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { images: Omit<BuiltImage, 'ranOn'>[] };
    const images = summary.images.map((i) => ({
      ...i,
      ranOn: `${standins.describe[entryKey(i)]} (${i.base}); runner's Node.js: ${standins.describe.node}`,
    }));
    const matrix = readMatrix();
    if (images.length !== matrix.images.length)
      throw new Error('images/build.mjs built fewer images than the matrix has');
    return {
      standins,
      images,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      get(flavour, runtime) {
        const i = images.find((x) => x.flavour === flavour && x.runtime === runtime);
        if (!i) throw new Error(`no ${flavour} image for ${runtime} in images/matrix.json`);
        return i;
      },
    };
  } finally {
    await rm(basesFile, { force: true });
    await rm(summaryFile, { force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const set = await ensureImages({ echo: process.argv.includes('--verbose') });
  const mb = (b: number) => `${Math.round(b / 1e6)} MB`;
  console.log(`stand-ins built now (s): ${JSON.stringify(set.standins.built)}`);
  for (const i of set.images) console.log(`${i.tags[0]}: ${i.seconds} s, ${mb(i.bytes)}, on ${i.ranOn}`);
  console.log(`stand-ins and ${set.images.length} images ready in ${set.seconds} s`);
}
