// The images the container tests run: every matrix entry built from images/Dockerfile on its stand-in base.
// `npm test` builds them once, before any test file starts (scripts/test.mjs runs this file with --out; one line per
// stand-in and image, with its time), so no file's timeout cuts a build and every file finds them ready
// (prepared.ts). A test file started on its own builds them itself, or finds them in the engine's cache. Builders
// take turns per engine (lock.ts): an interrupted build's lock is taken over, a running one waited for.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ImageEntry, readMatrix, repoRoot } from '../../images/matrix.mjs';
import { docker, skipReason } from './docker.js';
import { run } from './exec.js';
import { type LockOwner, withLock } from './lock.js';
import { type ImageSetData, readPrepared, writePrepared } from './prepared.js';
import { CannotBuildStandinsError, ensureStandins, entryKey } from './standins.js';

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

export interface ImageSet extends ImageSetData {
  /** the image of `<flavour>:<runtime>` */
  get(flavour: string, runtime: string): BuiltImage;
}

export interface ImageOptions {
  /** stream the builds' output to stderr */
  echo?: boolean;
  /** one line per stand-in and image (default: to stderr) */
  progress?: (line: string) => void;
}

const root = fileURLToPath(repoRoot);
const toStderr = (line: string) => process.stderr.write(`images: ${line}\n`);

/** The lock of the engine the docker CLI talks to (DOCKER_HOST's, or the default one). */
export function lockPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  const engine = host ? createHash('sha256').update(host).digest('hex').slice(0, 12) : 'default';
  return join(tmpdir(), `run-lambda-test-images-${engine}.lock`);
}

function imageSet(data: ImageSetData): ImageSet {
  return {
    ...data,
    get(flavour, runtime) {
      const i = data.images.find((x) => x.flavour === flavour && x.runtime === runtime);
      if (!i) throw new Error(`no ${flavour} image for ${runtime} in images/matrix.json`);
      return i;
    },
  };
}

/** True when every image and stand-in of `data` is still in the engine. */
async function present(data: ImageSetData): Promise<boolean> {
  const refs = [...data.images.map((i) => i.id), data.standins.node, ...Object.values(data.standins.bases)];
  return (await docker(['image', 'inspect', '--format', '{{.Id}}', ...refs])).code === 0;
}

let cached: Promise<ImageSet> | undefined;

/** The stand-ins and every image of the matrix on them: as npm test prepared them, else built (or found) now. */
export function ensureImages(opts: ImageOptions = {}): Promise<ImageSet> {
  cached ??= (async () => {
    const prepared = readPrepared();
    if (prepared && 'error' in prepared)
      throw new Error(`the image build before the tests failed: ${prepared.error}`);
    if (prepared && 'skip' in prepared) throw new Error(`the image tests are skipped here: ${prepared.skip}`);
    if (prepared && (await present(prepared.ready))) return imageSet(prepared.ready);
    const progress = opts.progress ?? toStderr;
    const onWait = ({ pid, since }: LockOwner) =>
      progress(`waiting for the image build of process ${pid} (since ${since})`);
    const onTakeOver = (o: LockOwner | undefined) =>
      progress(
        `the image build of ${o ? `process ${o.pid} (since ${o.since})` : 'a process'} was interrupted: taking over`,
      );
    return withLock(lockPath(), (scratch) => build(scratch, { ...opts, progress }), { onWait, onTakeOver });
  })();
  return cached;
}

async function build(
  scratch: string,
  opts: ImageOptions & { progress: (line: string) => void },
): Promise<ImageSet> {
  const started = Date.now();
  if (!existsSync(join(root, 'dist/run-lambda-aws.mjs'))) {
    await run('npm', ['run', 'build', '--silent'], { cwd: root, what: 'npm run build' });
  }
  const standins = await ensureStandins({ echo: opts.echo, scratch, progress: opts.progress });
  const basesFile = join(scratch, 'bases.json');
  const summaryFile = join(scratch, 'summary.json');
  writeFileSync(basesFile, JSON.stringify({ node: standins.node, bases: standins.bases }));
  const args = ['images/build.mjs', '--repo', TEST_REPO, '--bases', basesFile, '--summary', summaryFile];
  await run(process.execPath, [...args, '--no-npm-build'], {
    cwd: root,
    echo: opts.echo,
    what: 'node images/build.mjs (on the stand-ins)',
    // images/build.mjs says `built <tags> in <s> s (<size>)` as each image is done
    onStderrLine: (line) => {
      const done = /^built (.+ in [\d.]+ s\b.*)$/.exec(line);
      if (done?.[1] && !opts.echo) opts.progress(done[1]);
    },
  });
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { images: Omit<BuiltImage, 'ranOn'>[] };
  const images = summary.images.map((i) => ({
    ...i,
    ranOn: `${standins.describe[entryKey(i)]} (${i.base}); runner's Node.js: ${standins.describe.node}`,
  }));
  if (images.length !== readMatrix().images.length)
    throw new Error('images/build.mjs built fewer images than the matrix has');
  return imageSet({ standins, images, seconds: Math.round((Date.now() - started) / 100) / 10 });
}

/**
 * `node --import tsx test/images/images.ts [--out <file>] [--verbose]`: builds (or finds) them all, one line each;
 * with --out, writes what the test files are to find (prepared.ts). Exit 1 only when the build failed.
 */
async function main(argv: string[]): Promise<number> {
  const out = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
  const hand = (p: Parameters<typeof writePrepared>[1]) => out && writePrepared(out, p);
  const skip = skipReason();
  if (skip) {
    toStderr(`not built (${skip}): the image tests are skipped`);
    hand({ skip });
    return 0;
  }
  toStderr(
    `the stand-in bases and ${readMatrix().images.length} images for the image tests (cold: minutes; warm: seconds)`,
  );
  try {
    const set = await ensureImages({ echo: argv.includes('--verbose') });
    toStderr(`the stand-ins and ${set.images.length} images are ready (${set.seconds} s)`);
    hand({ ready: { standins: set.standins, images: set.images, seconds: set.seconds } });
    return 0;
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof CannotBuildStandinsError) {
      toStderr(`not built (${message}): the image tests are skipped`);
      hand({ skip: message });
      return 0;
    }
    toStderr(`the build failed: ${message}`);
    hand({ error: message });
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
