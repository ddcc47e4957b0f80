#!/usr/bin/env node
// `npm run images`: builds images of images/matrix.json from images/Dockerfile for one or both architectures, tagged with
// package.json's version, and with --push publishes them (images/publish.mjs: both architectures' tags, then the
// manifest lists over them).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildImage, HOST_ARCH } from './build-one.mjs';
import { ImageBuildError } from './docker-cli.mjs';
import { addedLine } from './layer-bytes.mjs';
import { ARCHES, checkArch, packageVersion, readMatrix, repoRoot } from './matrix.mjs';
import { publish } from './publish.mjs';

const USAGE = `Usage: npm run images -- [options]

Builds the run-lambda and run-geolambda images of images/matrix.json with Docker (images/Dockerfile), each tagged
<repo>/<repository>:<version>-<runtime>-<arch>; the images of this machine's architecture also get
<repo>/<repository>:<version>-<runtime> (and <repo>/<repository>:<version> for each flavour's default).
Prints a line per image: "<tag>: +X.X MB over <base> (compressed)", the layers it adds over its base, each gzip -6
as a registry ships them (what a job's task pulls beyond the base).

  --arch <arch>        x86_64, arm64 or all (default: this machine's, ${HOST_ARCH}); the other architecture's images
                       are built from its own bases and run here under emulation (qemu-aarch64 registered with binfmt_misc)
  --only <image>       build only this runtime's images, or one image as <flavour>:<runtime> (repeatable),
                       e.g. --only python3.13 --only lambda:java21
  --flavour <f>        build only lambda or geolambda images
  --repo <repo>        image repository prefix (default $IMAGE_REPO or cirrusgeo)
  --push <registry>    build under <registry>/<repository> and publish: push every architecture's tag, then make
                       <version>-<runtime> (and <version>) manifest lists over x86_64 and arm64 and push them
                       (a registry on 127.0.0.1 or localhost is spoken to over plain HTTP)
  --bases <file>       JSON {"node": {"<arch>": image}, "bases": {"<flavour>:<runtime>": {"<arch>": image}}}: build on
                       other bases than the pinned ones (the tests' stand-ins); a geolambda entry's base is then its geo base
  --summary <file>     write what was built (tags, bases, seconds, bytes, compressed bytes added
                       over the base, manifest lists) as JSON
  --no-npm-build       do not run npm run build first (dist/ is already built)
  --help`;

class UsageError extends Error {
  name = 'UsageError';
}

function parse(argv) {
  const o = { only: [], flavour: undefined, repo: undefined, arch: HOST_ARCH, npmBuild: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (!v) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--only') o.only.push(value());
    else if (a === '--flavour') o.flavour = value();
    else if (a === '--repo') o.repo = value();
    else if (a === '--arch') o.arch = value();
    else if (a === '--push') o.push = value();
    else if (a === '--bases') o.bases = value();
    else if (a === '--summary') o.summary = value();
    else if (a === '--no-npm-build') o.npmBuild = false;
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new UsageError(`unknown argument ${a}`);
  }
  if (o.push && o.repo && o.push !== o.repo)
    throw new UsageError(
      `--push ${o.push} and --repo ${o.repo}: give one (--push names the repository prefix)`,
    );
  o.repo = o.push ?? o.repo ?? (process.env.IMAGE_REPO || 'cirrusgeo');
  try {
    o.arches = o.arch === 'all' ? [...ARCHES] : [checkArch(o.arch)];
  } catch (err) {
    throw new UsageError(`--arch: ${err.message}`);
  }
  return o;
}

/** The entries `--only` and `--flavour` select; UsageError for a name the matrix does not have. */
function select(matrix, opts) {
  const known = new Set(matrix.images.flatMap((e) => [e.runtime, `${e.flavour}:${e.runtime}`]));
  for (const o of opts.only)
    if (!known.has(o))
      throw new UsageError(`--only ${o}: not a runtime or <flavour>:<runtime> of images/matrix.json`);
  const entries = matrix.images.filter(
    (e) =>
      (opts.only.length === 0 ||
        opts.only.includes(e.runtime) ||
        opts.only.includes(`${e.flavour}:${e.runtime}`)) &&
      (!opts.flavour || e.flavour === opts.flavour),
  );
  if (entries.length === 0)
    throw new UsageError(`no image matches --only ${opts.only.join(', ')} ${opts.flavour ?? ''}`);
  return entries;
}

function preflight(opts) {
  if (spawnSync('docker', ['--version']).status !== 0)
    throw new ImageBuildError(
      'no docker command here, so the images were not built. Build them where Docker runs (docs/deploy.md).',
    );
  if (spawnSync('docker', ['version', '--format', '{{.Server.Version}}']).status !== 0)
    throw new ImageBuildError(
      'docker is installed but no Docker engine answers; start one (or set DOCKER_HOST) and run again.',
    );
  if (opts.npmBuild) {
    const b = spawnSync('npm', ['run', 'build', '--silent'], {
      cwd: fileURLToPath(repoRoot),
      stdio: 'inherit',
    });
    if (b.status !== 0) throw new ImageBuildError('npm run build failed');
  }
}

async function main(argv) {
  const opts = parse(argv);
  if (opts.help) return console.log(USAGE);
  const matrix = readMatrix();
  const entries = select(matrix, opts);
  preflight(opts);
  const log = (line) => console.error(line);
  const version = packageVersion();
  const overrides = opts.bases ? JSON.parse(readFileSync(opts.bases, 'utf8')) : undefined;
  const ctx = { matrix, repo: opts.repo, version, hostArch: HOST_ARCH, overrides, geoBases: new Set(), log };
  const built = [];
  for (const arch of opts.arches) for (const entry of entries) built.push(await buildImage(entry, arch, ctx));
  const manifests = opts.push ? await publish(built, { repo: opts.repo, version, log }) : [];
  if (opts.summary)
    writeFileSync(
      opts.summary,
      `${JSON.stringify({ version, repo: opts.repo, images: built, manifests }, null, 2)}\n`,
    );
  log(`built ${built.length} image(s) for ${opts.repo} ${version} (${opts.arches.join(', ')})`);
  // What each image adds over its base, as a registry ships it: what a job's task pulls beyond the base.
  for (const b of built) console.log(addedLine(b.tags[0], b.base, b.addedBytes));
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`images/build.mjs: ${err.message}`);
  if (err instanceof UsageError) console.error(`\n${USAGE}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
