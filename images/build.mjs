#!/usr/bin/env node
// `npm run images`: builds every image of images/matrix.json from images/Dockerfile, tagged with package.json's version.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { imageTags, packageVersion, readMatrix, repoRoot } from './matrix.mjs';

const USAGE = `Usage: npm run images -- [options]

Builds the run-lambda and run-geolambda images of images/matrix.json with Docker (images/Dockerfile), tagged
<repo>/<repository>:<version>-<runtime> (and <repo>/<repository>:<version> for each flavour's default).

  --only <runtime>     build only this runtime's images (repeatable), e.g. --only python3.13
  --flavour <f>        build only lambda or geolambda images
  --repo <repo>        image repository prefix (default $IMAGE_REPO or cirrusgeo)
  --platform <p>       passed to docker build (e.g. linux/amd64)
  --push               push every tag after it is built and checked
  --bases <file>       JSON {"node": image, "bases": {"<flavour>:<runtime>": image}}: build on other bases
                       than the pinned ones (the tests' stand-ins); a geolambda entry's base is then its geo base
  --summary <file>     write what was built (tags, bases, seconds, bytes) as JSON
  --no-npm-build       do not run npm run build first (dist/ is already built)
  --help`;

function parse(argv) {
  const o = {
    only: [],
    flavour: undefined,
    repo: process.env.IMAGE_REPO || 'cirrusgeo',
    push: false,
    npmBuild: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (!v) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--only') o.only.push(value());
    else if (a === '--flavour') o.flavour = value();
    else if (a === '--repo') o.repo = value();
    else if (a === '--platform') o.platform = value();
    else if (a === '--push') o.push = true;
    else if (a === '--bases') o.bases = value();
    else if (a === '--summary') o.summary = value();
    else if (a === '--no-npm-build') o.npmBuild = false;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return o;
}

function fail(message, code = 2) {
  console.error(`images/build.mjs: ${message}`);
  if (code === 2) console.error(`\n${USAGE}`);
  process.exit(code);
}

const root = fileURLToPath(repoRoot);

function docker(args, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { cwd: root, stdio: ['ignore', quiet ? 'pipe' : 'inherit', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
      if (!quiet) process.stderr.write(d);
    });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

async function must(args, what) {
  const r = await docker(args);
  if (r.code !== 0) fail(`${what} failed (docker exited with code ${r.code})`, 1);
}

const opts = parse(process.argv.slice(2));
const matrix = readMatrix();
const version = packageVersion();
const overrides = opts.bases
  ? JSON.parse(spawnSync('cat', [opts.bases], { encoding: 'utf8' }).stdout)
  : undefined;
const entries = matrix.images.filter(
  (e) =>
    (opts.only.length === 0 || opts.only.includes(e.runtime)) &&
    (!opts.flavour || e.flavour === opts.flavour),
);
if (entries.length === 0)
  fail(`no image matches --only ${opts.only.join(', ')} ${opts.flavour ?? ''}`.trim());
const known = new Set(matrix.images.map((e) => e.runtime));
for (const r of opts.only)
  if (!known.has(r)) fail(`--only ${r}: not a runtime of images/matrix.json (${[...known].join(', ')})`);

if (spawnSync('docker', ['--version']).status !== 0) {
  fail(
    'no docker command here, so the images were not built. Build them where Docker runs (docs/deploy.md).',
    1,
  );
}
if (spawnSync('docker', ['version', '--format', '{{.Server.Version}}']).status !== 0) {
  fail('docker is installed but no Docker engine answers; start one (or set DOCKER_HOST) and run again.', 1);
}
if (opts.npmBuild) {
  const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) fail('npm run build failed', 1);
}

const nodeImage = overrides?.node ?? matrix.node.image;
const platform = opts.platform ? ['--platform', opts.platform] : [];
const summary = { version, repo: opts.repo, node: nodeImage, images: [] };
const geoBases = new Map();

/** The geo base for a geolambda entry: the stand-in, or images/geo-base/Dockerfile built on the Lambda base. */
async function geoBase(entry) {
  const override = overrides?.bases?.[`${entry.flavour}:${entry.runtime}`];
  if (override) return override;
  const tag = `${opts.repo}/run-geolambda-base:gdal${matrix.geo.gdal}-${entry.runtime}`;
  if (geoBases.has(tag)) return tag;
  const args = ['build', '--network', 'host', ...platform, '-f', 'images/geo-base/Dockerfile', '--tag', tag];
  args.push('--build-arg', `BASE_IMAGE=${entry.base}`);
  for (const [k, v] of Object.entries(matrix.geo)) {
    if (!k.startsWith('$')) args.push('--build-arg', `${k.toUpperCase()}_VERSION=${v}`);
  }
  console.error(
    `building the geo base ${tag} on ${entry.base} (GDAL ${matrix.geo.gdal}; this compiles PROJ, GEOS and GDAL)`,
  );
  await must([...args, 'images/geo-base'], `building ${tag}`);
  geoBases.set(tag, true);
  return tag;
}

for (const entry of entries) {
  const started = Date.now();
  const base = entry.geo_base
    ? await geoBase(entry)
    : (overrides?.bases?.[`${entry.flavour}:${entry.runtime}`] ?? entry.base);
  const tags = imageTags(entry, { repo: opts.repo, version });
  const args = [
    'build',
    '--network',
    'host',
    ...platform,
    '-f',
    'images/Dockerfile',
    '--target',
    entry.flavour,
  ];
  args.push('--build-arg', `BASE_IMAGE=${base}`, '--build-arg', `NODE_IMAGE=${nodeImage}`);
  args.push('--build-arg', `NODE_SDK=${entry.node_sdk ? 'bundled' : 'none'}`);
  args.push('--build-arg', `RUNTIME=${entry.runtime}`, '--build-arg', `VERSION=${version}`);
  args.push('--build-arg', `IMAGE_NAME=${tags[0]}`);
  for (const t of tags) args.push('--tag', t);
  console.error(`building ${tags.join(', ')} on ${base}`);
  await must([...args, '.'], `building ${tags[0]}`);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  // The image's contract: `run` starts the bundled runner and knows the image's runtime.
  const check = await docker(['run', '--rm', '--network', 'host', tags[0], 'run', '--version'], {
    quiet: true,
  });
  if (check.code !== 0) fail(`${tags[0]}: run --version exited with code ${check.code}: ${check.err}`, 1);
  const inspect = await docker(['image', 'inspect', '--format', '{{.Size}} {{.Id}}', tags[0]], {
    quiet: true,
  });
  const [bytes, id] = inspect.out.trim().split(' ');
  summary.images.push({ ...entry, base, tags, seconds, bytes: Number(bytes), id });
  console.error(`built ${tags.join(', ')} in ${seconds} s (${Math.round(Number(bytes) / 1e6)} MB)`);
  if (opts.push) for (const t of tags) await must(['push', t], `pushing ${t}`);
}
if (opts.summary) writeFileSync(opts.summary, `${JSON.stringify(summary, null, 2)}\n`);
console.error(`built ${summary.images.length} image(s) for ${opts.repo} ${version}`);
