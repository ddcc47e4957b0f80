// The images the container tests run: the matrix entries `npm test` builds (each entry's standin.npm_test: every
// x86_64 image the tests need, python3.12 on arm64 too), built from images/Dockerfile on their stand-in bases.
// `npm test` builds them once, before any test file starts (scripts/test.mjs runs this file with --out; one line per
// stand-in and image, with its time), so no file's timeout cuts a build and every file finds them ready
// (prepared.ts). A test file started on its own builds them itself, or finds them in the engine's cache. Builders
// take turns per engine (lock.ts): an interrupted build's lock is taken over, a running one waited for. Where arm64
// binaries cannot run (no emulator registered), the arm64 images are left out and `arm64Skip` says why.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ARCHES,
  type Arch,
  checkArch,
  type ImageEntry,
  npmTestArches,
  readMatrix,
  repoRoot,
} from '../../images/matrix.mjs';
import { docker, skipReason } from './docker.js';
import { run } from './exec.js';
import { type LockOwner, withLock } from './lock.js';
import { type ImageSetData, readPrepared, writePrepared } from './prepared.js';
import {
  CannotBuildStandinsError,
  emulationMissing,
  ensureStandins,
  entryKey,
  HOST_ARCH,
  type ImageBuild,
  type StandinSet,
} from './standins.js';

export const TEST_REPO = 'run-lambda-test';

export interface BuiltImage extends ImageEntry {
  arch: Arch;
  /** its architecture's tag first; on this machine's architecture also the tags over both */
  tags: string[];
  /** the name it gives itself (RUN_LAMBDA_IMAGE): the tag over both architectures */
  name: string;
  /** the base it was built on (a stand-in tag) */
  base: string;
  /** what that base is, for the tests' "ran on" lines */
  ranOn: string;
  seconds: number;
  bytes: number;
  /** the layers it adds over its base, each gzip -6 as a registry ships them (images/layer-bytes.mjs) */
  addedBytes: number;
  /** the image's id (sha256:…), which another build's tag cannot move */
  id: string;
}

export interface ImageSet extends ImageSetData {
  /** the image of `<flavour>:<runtime>` on `arch` (x86_64 unless given) */
  get(flavour: string, runtime: string, arch?: Arch): BuiltImage;
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
    get(flavour, runtime, arch = 'x86_64') {
      const i = data.images.find((x) => x.flavour === flavour && x.runtime === runtime && x.arch === arch);
      if (!i) {
        const why = arch === 'arm64' && data.arm64Skip ? ` (${data.arm64Skip})` : '';
        throw new Error(`no ${arch} ${flavour} image for ${runtime} among the images npm test builds${why}`);
      }
      return i;
    },
  };
}

/** True when every image and stand-in of `data` is still in the engine. */
async function present(data: ImageSetData): Promise<boolean> {
  const refs = [
    ...data.images.map((i) => i.id),
    ...Object.values(data.standins.node),
    ...Object.values(data.standins.bases).flatMap((b) => Object.values(b)),
  ].filter((r): r is string => !!r);
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

/** The images npm test builds: each entry on the architectures of its standin.npm_test that can run here. */
export function testBuilds(): { builds: ImageBuild[]; arm64Skip?: string } {
  const arm64Skip = emulationMissing('arm64');
  const builds = readMatrix().images.flatMap((entry) =>
    npmTestArches(entry)
      .filter((arch) => arch !== 'arm64' || !arm64Skip)
      .map((arch) => ({ entry, arch })),
  );
  return { builds, ...(arm64Skip ? { arm64Skip } : {}) };
}

/** Runs images/build.mjs for one architecture's share of `builds` on the stand-ins; returns its summary's images. */
async function buildArch(
  arch: Arch,
  builds: ImageBuild[],
  basesFile: string,
  scratch: string,
  opts: ImageOptions & { progress: (line: string) => void },
): Promise<Omit<BuiltImage, 'ranOn'>[]> {
  const summaryFile = join(scratch, `summary-${arch}.json`);
  const args = ['images/build.mjs', '--repo', TEST_REPO, '--bases', basesFile, '--summary', summaryFile];
  args.push('--arch', arch, '--no-npm-build');
  for (const b of builds) if (b.arch === arch) args.push('--only', entryKey(b.entry));
  await run(process.execPath, args, {
    cwd: root,
    echo: opts.echo,
    what: `node images/build.mjs --arch ${arch} (on the stand-ins)`,
    // images/build.mjs says `built <tags> in <s> s (<size>)` as each image is done
    onStderrLine: (line) => {
      const done = /^built (.+ in [\d.]+ s\b.*)$/.exec(line);
      if (done?.[1] && !opts.echo) opts.progress(done[1]);
    },
  });
  return (JSON.parse(readFileSync(summaryFile, 'utf8')) as { images: Omit<BuiltImage, 'ranOn'>[] }).images;
}

/** One architecture's share of `builds`: its stand-ins, then its images on them. */
async function buildOneArch(
  arch: Arch,
  builds: ImageBuild[],
  scratch: string,
  opts: ImageOptions & { progress: (line: string) => void },
): Promise<{ standins: StandinSet; images: BuiltImage[] }> {
  const mine = builds.filter((b) => b.arch === arch);
  const standins = await ensureStandins(mine, { echo: opts.echo, scratch, progress: opts.progress });
  const basesFile = join(scratch, `bases-${arch}.json`);
  writeFileSync(basesFile, JSON.stringify({ node: standins.node, bases: standins.bases }));
  const images = (await buildArch(arch, mine, basesFile, scratch, opts)).map((i) => ({
    ...i,
    ranOn: `${standins.describe[entryKey(i)]}, ${arch} (${i.base}); runner's Node.js: ${standins.describe.node}`,
  }));
  return { standins, images };
}

/** Both architectures' stand-ins and images side by side: each is a chain of its own, the arm64 one mostly emulated. */
function merge(parts: { standins: StandinSet; images: BuiltImage[] }[]) {
  const standins: StandinSet = { node: {}, bases: {}, describe: {}, built: {} };
  for (const { standins: s } of parts) {
    Object.assign(standins.node, s.node);
    Object.assign(standins.describe, s.describe);
    Object.assign(standins.built, s.built);
    for (const [key, byArch] of Object.entries(s.bases))
      standins.bases[key] = { ...standins.bases[key], ...byArch };
  }
  return { standins, images: parts.flatMap((p) => p.images) };
}

async function build(
  scratch: string,
  opts: ImageOptions & { progress: (line: string) => void },
  planned: { builds: ImageBuild[]; arm64Skip?: string } = testBuilds(),
): Promise<ImageSet> {
  const started = Date.now();
  if (!existsSync(join(root, 'dist/run-lambda-aws.mjs'))) {
    await run('npm', ['run', 'build', '--silent'], { cwd: root, what: 'npm run build' });
  }
  const { builds, arm64Skip } = planned;
  if (arm64Skip) opts.progress(`no arm64 images: ${arm64Skip}`);
  const arches = [...new Set(builds.map((b) => b.arch))];
  const { standins, images } = merge(
    await Promise.all(arches.map((arch) => buildOneArch(arch, builds, scratch, opts))),
  );
  if (images.length !== builds.length)
    throw new Error(`images/build.mjs built ${images.length} images, not the ${builds.length} asked for`);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  return imageSet({ standins, images, seconds, ...(arm64Skip ? { arm64Skip } : {}) });
}

/** `--all --arch <x86_64|arm64|all>`: every image of the matrix on the stand-ins, no test set; exit 1 when one fails. */
async function buildAll(argv: string[]): Promise<number> {
  const i = argv.indexOf('--arch');
  const which = i === -1 ? HOST_ARCH : (argv[i + 1] ?? '');
  const arches = which === 'all' ? [...ARCHES] : [checkArch(which)];
  const builds = arches.flatMap((arch) => readMatrix().images.map((entry) => ({ entry, arch })));
  toStderr(`the stand-ins and all ${builds.length} images of the matrix for ${arches.join(', ')}`);
  const progress = toStderr;
  const set = await withLock(lockPath(), (scratch) =>
    build(scratch, { echo: argv.includes('--verbose'), progress }, { builds }),
  );
  for (const [name, seconds] of Object.entries(set.standins.built))
    toStderr(`stand-in ${name}: ${seconds} s`);
  toStderr(`built ${set.images.length} images in ${set.seconds} s`);
  return 0;
}

/**
 * `node --import tsx test/images/images.ts [--out <file>] [--verbose]`: builds (or finds) them all, one line each;
 * with --out, writes what the test files are to find (prepared.ts). Exit 1 only when the build failed.
 */
async function main(argv: string[]): Promise<number> {
  if (argv.includes('--all')) return buildAll(argv);
  const out = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
  const hand = (p: Parameters<typeof writePrepared>[1]) => out && writePrepared(out, p);
  const skip = skipReason();
  if (skip) {
    toStderr(`not built (${skip}): the image tests are skipped`);
    hand({ skip });
    return 0;
  }
  toStderr(
    `the stand-in bases and ${testBuilds().builds.length} images for the image tests (cold: minutes; warm: seconds)`,
  );
  try {
    const set = await ensureImages({ echo: argv.includes('--verbose') });
    toStderr(`the stand-ins and ${set.images.length} images are ready (${set.seconds} s)`);
    const { get: _get, ...data } = set;
    hand({ ready: data });
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
